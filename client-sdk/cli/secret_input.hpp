// inkan CLI — asking for PINs and unblock codes.
//
// Never from argv (other users see it in ps, shells keep it in history).
// When stdin is a terminal: from /dev/tty with echo off, the prompt on stderr.
// Otherwise (scripts, tests): one line per secret from stdin. Either way the
// bytes go through a fixed stack buffer that is wiped, into an inkan::Secret.
#pragma once

#include <string_view>

#include "daemon/secret.hpp"

namespace inkan::cli {

class SecretInput {
public:
    /// Decides terminal or stdin once, from isatty(stdin).
    SecretInput();

    bool fromTerminal() const noexcept { return terminal_; }

    /// One secret. Empty input cancels: Failure(Usage), nothing is sent.
    Secret ask(std::string_view prompt);

    /// A new secret: asked twice on a terminal (Failure(Usage) if they differ),
    /// read once from stdin (a script has no typos to catch).
    Secret askNew(std::string_view prompt, std::string_view confirmPrompt);

private:
    bool terminal_;
};

/// Constant-time comparison of two secrets.
bool sameSecret(const Secret& a, const Secret& b) noexcept;

}  // namespace inkan::cli
