// inkan — the security gate: every request passes here before routing and
// before any card access, and every response passes here on its way out.
//
// What it enforces, in order (each step is one private function, so later
// policies slot in beside them):
//   1. Host is a loopback name with our port (DNS rebinding).
//   2. An Origin header, if any, is on the allowlist or paired (CORS is not
//      authorization: a disallowed origin is refused, on preflights too, not
//      merely denied the CORS headers). Any other trustworthy origin may only
//      ask for pairing (POST /v1/pairings, GET /v1/pairings/{id}, GET
//      /v1/access). classifyOrigin() is the one place this is decided.
//   3. A request without Origin (curl, scripts, the CLI) carries the local API
//      token; allowlisted browser origins are authorized by their origin.
//      inkand's own origin (the console page it serves) has no standing by
//      itself — any local process can write that Origin: the console's
//      requests (with that Origin, or same-origin GETs without one) are
//      admitted only with a live console session cookie
//      (daemon/security/console_sessions.hpp). Sec-Fetch-* headers grant
//      nothing. The console's files need no credentials at all.
//   4. Requests that act (non-GET/OPTIONS) carry a JSON body and the
//      Inkan-Client header, so HTML forms (no preflight) cannot reach us.
// The outcome is a Caller, which handlers and later policies (pairing,
// per-origin rules, the PIN guard) decide on instead of re-reading headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <memory>

#include "api/http_message.hpp"
#include "daemon/secret.hpp"
#include "daemon/security/console_sessions.hpp"
#include "daemon/security/pairing_store.hpp"

namespace inkan::api {

struct GateOptions {
    std::uint16_t port = 0;
    /// Serialized origins exactly as browsers send them (RFC 6454 §6.2), e.g.
    /// "https://portal.example.jp"; normalized by the configuration loader.
    std::vector<std::string> allowedOrigins;
    /// The local API token (hex), as stored in <state>/token.
    Secret token;
    /// Origins paired at run time (consulted on every request); null: none.
    std::shared_ptr<const security::PairingStore> pairings;
    /// --allow-insecure-localhost-origins: http://localhost and http://127.0.0.1
    /// origins may ask for pairing and stay paired (development only).
    bool allowInsecureLocalhostOrigins = false;
    /// The console's login codes and sessions; null: the Api makes one.
    std::shared_ptr<security::ConsoleSessions> consoleSessions;
};

/// Who is calling, as established by the gate.
struct Caller {
    enum class Kind {
        LocalClient,    // no Origin; proved possession of the local token
        BrowserOrigin,  // a page of an allowlisted or paired origin
        PairingCandidate,  // a page of any other trustworthy origin: may only ask for pairing
        OwnOrigin,      // inkand's own page, the console, with a live session (origin https://127.0.0.1:PORT etc.)
        ConsoleLogin,   // inkand's own page without a session: may only trade a login code
        Public,         // no credentials: a GET of the console's page or files, nothing else
    };
    Kind kind = Kind::LocalClient;
    std::string origin;   // for BrowserOrigin, PairingCandidate, OwnOrigin, ConsoleLogin
    std::string session;  // for OwnOrigin: the public id of its console session
};

struct Admission {
    Caller caller;
    /// An OPTIONS request: answered by Gate::preflight, never routed.
    bool preflight = false;
};

class Gate {
public:
    explicit Gate(GateOptions options);

    /// Admit a request or throw inkan::Error (HostForbidden, OriginForbidden,
    /// Unauthorized, UnsupportedMediaType, BadRequest).
    Admission admit(const Request& request) const;

    /// The 204 answer to an admitted OPTIONS request.
    Response preflight(const Admission& admission) const;

    /// The request's origin when it is allowlisted, i.e. the page that may
    /// read the response; computed before the request is handed on.
    std::optional<std::string> corsOrigin(const Request& request) const;

    /// Security headers on every response, CORS headers for an allowlisted
    /// origin. Safe to call from any thread.
    void seal(Response& response, const std::optional<std::string>& corsOrigin) const;

    /// "__Host-inkan-console-PORT": the console's session cookie (RFC 6265bis
    /// §4.1.3.2: the __Host- prefix binds it to Secure, Path=/ and no Domain).
    const std::string& sessionCookieName() const noexcept { return sessionCookieName_; }
    security::ConsoleSessions& consoleSessions() const noexcept { return *consoleSessions_; }
    std::uint16_t port() const noexcept { return port_; }

private:
    void checkHost(const Request& request) const;
    std::optional<std::string> checkOrigin(const Request& request) const;
    void checkToken(const Request& request) const;
    void checkBodyKind(const Request& request) const;
    /// The one decision about an Origin header: which kind of caller the page
    /// is, or ORIGIN_FORBIDDEN. Exact string comparisons only.
    Caller::Kind classifyOrigin(std::string_view origin, const Request& request) const;
    /// Allowlisted (config) or paired (and still trustworthy under this run's settings).
    bool isAllowedOrigin(std::string_view origin) const;
    bool isOwnOrigin(std::string_view origin) const;
    /// inkand's own page: a live session, the console's files, or the trade
    /// of a login code; anything else is UNAUTHORIZED.
    Caller ownOriginCaller(const Request& request, std::string origin, const std::optional<std::string>& session) const;
    /// The console session cookie's value, when the request carries exactly one.
    std::optional<std::string_view> sessionCookie(const Request& request) const;
    /// The public id of the request's live console session, if any.
    std::optional<std::string> consoleSession(const Request& request) const;
    /// The own origin named by the request's (already checked) Host.
    std::string ownOriginOfHost(const Request& request) const;

    std::uint16_t port_;
    std::vector<std::string> allowedHosts_;
    std::vector<std::string> ownOrigins_;
    std::vector<std::string> allowedOrigins_;
    Secret token_;
    std::shared_ptr<const security::PairingStore> pairings_;
    bool allowInsecureLocalhostOrigins_;
    std::shared_ptr<security::ConsoleSessions> consoleSessions_;
    std::string sessionCookieName_;
};

}  // namespace inkan::api
