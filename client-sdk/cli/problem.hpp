// inkan CLI — inkand's error answers (application/problem+json, RFC 9457) and
// the one translation of their `code` into an exit code and words for people.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "client-sdk/cli/exit_code.hpp"

namespace inkan::cli {

struct Problem {
    int status = 0;
    std::string code;    // stable upper-snake code, e.g. "PIN_INCORRECT"
    std::string title;
    std::string detail;
    std::optional<int> triesLeft;
    std::optional<std::string> statusWord;  // the card's status word ("6A82"), for CARD_ERROR
    /// Set by the command that named the PIN (commands/pin_guard.hpp forPin):
    /// whether the card can unblock it, and else who resets it.
    std::optional<bool> pinUnblockable;
    std::string pinReset;
    std::string body;    // the response as received, printed as is with --json

    /// Lenient: a problem with missing members still yields a usable message.
    static Problem fromResponse(long httpStatus, const std::string& body);
};

/// Thrown by ApiClient for every problem+json answer; main() reports it.
class ApiProblem : public std::runtime_error {
public:
    explicit ApiProblem(Problem problem);
    const Problem& problem() const noexcept { return problem_; }

private:
    Problem problem_;
};

/// PIN_INCORRECT, PIN_BLOCKED, UNBLOCK_CODE_INCORRECT, PIN_GUARD -> PinRefused; others -> ApiError.
ExitCode exitCodeFor(const Problem& problem);

/// "PIN_INCORRECT: wrong PIN — 9 tries left before the card locks"
std::string describe(const Problem& problem);

/// What to do next, or empty.
std::string hintFor(const Problem& problem);

/// "9 tries left" / "1 try left".
std::string triesLeftText(int triesLeft);

}  // namespace inkan::cli
