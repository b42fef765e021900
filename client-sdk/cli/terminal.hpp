// inkan CLI — where a PIN, unblock code or password is typed: the terminal
// with its echo off, or standard input for scripts.
//
// The seam for the platform: secret_input.cpp reads bytes from a ByteSource
// and knows no terminal API. terminal_posix.cpp implements it with /dev/tty,
// termios and signal handlers that restore the echo; a Windows build adds its
// own file (the console's CONIN$ without ENABLE_ECHO_INPUT, restored from a
// SetConsoleCtrlHandler; docs/windows.md "Where the code changes").
#pragma once

#include <memory>
#include <string_view>

namespace inkan::cli {

/// Bytes of one secret, read one at a time so that no library buffer keeps a copy.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    /// 1: a byte is in `c`; 0: the end of input; -1: a failure (systemReason() says which).
    virtual int next(char& c) = 0;
};

/// Whether standard input is a terminal (then secrets are asked on it).
bool stdinIsTerminal();

/// Whether standard output is a terminal (binary output is refused there).
bool stdoutIsTerminal();

/// Standard input, for scripts and tests.
std::unique_ptr<ByteSource> standardInput();

/// The user's terminal with echo off for the life of the object (the
/// original settings come back on every exit path, signals included), after
/// `prompt` was shown; nullptr when the process has no terminal. Typeahead
/// from before the prompt is discarded. Throws Failure(LocalIo) when the
/// echo cannot be turned off.
std::unique_ptr<ByteSource> silentTerminal(std::string_view prompt);

}  // namespace inkan::cli
