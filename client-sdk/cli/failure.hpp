// inkan CLI — the one exception type a command throws to end with an exit code.
//
// main() catches it in exactly one place, prints "inkan: <message>" and the
// hint (how to fix it) on stderr, and exits with its code.
#pragma once

#include <stdexcept>
#include <string>

#include "client-sdk/cli/exit_code.hpp"

namespace inkan::cli {

class Failure : public std::runtime_error {
public:
    Failure(ExitCode code, std::string message, std::string hint = {})
        : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}

    ExitCode code() const noexcept { return code_; }
    /// What the user can do about it; empty when there is nothing useful to say.
    const std::string& hint() const noexcept { return hint_; }

private:
    ExitCode code_;
    std::string hint_;
};

}  // namespace inkan::cli
