// inkan — the console's login (docs/security.md "The console logs in").
//
// inkand's own origin has no standing by itself: any local process can write
// an Origin header. The console page gets its standing from a session:
//   1. A local client (the API token: `inkan console`) asks for a login code:
//      128 random bits, good for one use within a minute.
//   2. The console page, opened at https://127.0.0.1:PORT/#login=CODE, trades
//      the code for a session: another 128 random bits, which the browser
//      keeps in an HttpOnly cookie and sends with every request of the page.
//   3. A session ends after a while without requests, after an absolute
//      limit, on logout, and with inkand (it lives in memory only).
// Codes and session values are secrets: held in inkan::Secret, compared in
// constant time against every live entry, never logged, never written down.
// Each session also has a public id (random, not derived from the secret),
// which names it wherever "which console" matters (logs, the principal).
//
// Knows nothing of HTTP: the gate reads the cookie, the routes speak JSON.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/secret.hpp"

namespace inkan::security {

struct ConsoleSessionOptions {
    using Clock = std::chrono::steady_clock;

    /// How long a login code may wait to be traded (the issue allows at most 60 s).
    std::chrono::seconds codeLifetime{60};
    /// A session without a request for this long is over.
    std::chrono::seconds idleTimeout{30 * 60};
    /// A session is over after this long, however busy.
    std::chrono::seconds absoluteLifetime{12 * 60 * 60};
    /// Codes waiting at once; the oldest goes when another is asked for.
    std::size_t maxCodes = 8;
    /// Sessions at once; the least recently used goes when another starts.
    std::size_t maxSessions = 16;
    std::function<Clock::time_point()> now = Clock::now;
};

/// A fresh login code, for the local client that asked.
struct LoginCode {
    Secret code;  // 32 lower-case hex digits
    std::chrono::seconds expiresIn{0};
};

/// A session as it starts: the cookie value (secret) and the public id.
struct NewConsoleSession {
    Secret value;    // 32 lower-case hex digits, the cookie's value
    std::string id;  // 32 lower-case hex digits, not secret
};

class ConsoleSessions {
public:
    using Clock = ConsoleSessionOptions::Clock;

    explicit ConsoleSessions(ConsoleSessionOptions options = {});

    /// A new single-use login code. Throws Error(Internal) without randomness.
    LoginCode issueCode();

    /// Trades a login code for a new session; the code is spent whether or
    /// not the session is used. nullopt for an unknown, spent or expired code.
    std::optional<NewConsoleSession> redeem(std::string_view code);

    /// The public id of the live session with this cookie value, which counts
    /// as activity; nullopt for an unknown or expired one.
    std::optional<std::string> identify(std::string_view value);

    /// Whether the session with this public id is still live; not activity
    /// (an open event stream asks this, and must not keep a session alive).
    bool isLive(std::string_view id);

    /// Ends the session with this public id. False when there was none.
    bool revoke(std::string_view id);

    const ConsoleSessionOptions& options() const noexcept { return options_; }

private:
    struct Code {
        Secret value;
        Clock::time_point expiresAt;
    };
    struct Session {
        Secret value;
        std::string id;
        Clock::time_point startedAt;
        Clock::time_point lastUsed;
    };

    /// Drops what has expired by `now`. Called with mutex_ held.
    void expire(Clock::time_point now);
    bool expired(const Session& session, Clock::time_point now) const;

    ConsoleSessionOptions options_;
    std::mutex mutex_;
    std::vector<Code> codes_;
    std::vector<Session> sessions_;
};

}  // namespace inkan::security
