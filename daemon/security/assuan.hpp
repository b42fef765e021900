// inkan — the client side of the Assuan protocol as spoken by GnuPG's
// pinentry programs (GnuPG "Assuan" manual; pinentry's doc/pinentry.texi for
// the commands), over libassuan.
//
// libassuan reads and writes the lines, unescapes D lines and tells OK, ERR,
// S, # and INQUIRE apart. What it leaves to its clients is done here: the
// percent-escaping of command arguments (libassuan has none for clients),
// deadlines and abandonment (libassuan blocks; its read hook here waits in
// slices on the platform channel, daemon/platform/child_process.hpp), and
// keeping the PIN secret: libassuan's memory comes from a wiping allocator, a
// D line goes straight into an inkan::Secret, and libassuan never logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/secret.hpp"

namespace inkan::platform {
class Channel;
}

namespace inkan::security::assuan {

/// Assuan's line length limit, LF included (the manual's 1000 bytes).
inline constexpr std::size_t kMaxLineLength = 1000;

/// "SETDESC" + escaped text, without the LF. Control characters and '%' are
/// escaped; the text is cut (at a UTF-8 boundary) so the line fits
/// kMaxLineLength.
std::string command(std::string_view verb, std::string_view argument = {});

/// Percent-escape for a command argument (see command()).
std::string escape(std::string_view text);

/// What a command ended with.
struct Reply {
    bool ok = false;
    std::uint32_t errorCode = 0;  // the gpg-error code (gpg_err_code) of the server's ERR, when !ok
    std::optional<Secret> data;   // the D line, if any (pinentry sends at most one)
};

/// Returns true once nobody needs the answer any more.
using Abandoned = std::function<bool()>;

/// One conversation with an Assuan server on the other end of `channel`.
/// Every call throws inkan::Error: PinCancelled when `abandoned` says so,
/// PinEntryTimeout when the deadline passes, PinEntryUnavailable when the
/// server breaks the protocol, ends, or stops listening.
class Connection {
public:
    using Clock = std::chrono::steady_clock;

    /// Reads the server's greeting (an OK) by `deadline`.
    Connection(platform::Channel& channel, Abandoned abandoned, Clock::time_point deadline);
    /// Says BYE (best effort) and releases libassuan's context, wiping its buffers.
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Sends `verb argument` and reads up to the final OK or ERR. An
    /// INQUIRE or a second D line is a protocol this client does not speak.
    Reply transact(std::string_view verb, std::string_view argument, Clock::time_point deadline);

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace inkan::security::assuan
