// inkan — the security gate: every request passes here before routing and
// before any card access, and every response passes here on its way out.
//
// What it enforces, in order (each step is one private function, so later
// policies slot in beside them):
//   1. Host is a loopback name with our port (DNS rebinding).
//   2. An Origin header, if any, is on the allowlist (CORS is not authorization:
//      a disallowed origin is refused, on preflights too, not merely denied
//      the CORS headers).
//   3. A request without Origin (curl, scripts, the CLI) carries the local API
//      token; allowlisted browser origins are authorized by their origin.
//   4. Requests that act (non-GET/OPTIONS) carry a JSON body, and browser ones
//      the Inkan-Client header, so HTML forms (no preflight) cannot reach us.
// The outcome is a Caller, which handlers and later policies (pairing,
// per-origin rules, the PIN guard) decide on instead of re-reading headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.hpp"
#include "daemon/secret.hpp"

namespace inkan::api {

struct GateOptions {
    std::uint16_t port = 0;
    /// Serialized origins exactly as browsers send them (RFC 6454 §6.2), e.g.
    /// "https://portal.example.jp"; normalized by the configuration loader.
    std::vector<std::string> allowedOrigins;
    /// The local API token (hex), as stored in <state>/token.
    Secret token;
};

/// Who is calling, as established by the gate.
struct Caller {
    enum class Kind {
        LocalClient,    // no Origin; proved possession of the local token
        BrowserOrigin,  // a page of an allowlisted origin
    };
    Kind kind = Kind::LocalClient;
    std::string origin;  // for BrowserOrigin
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

private:
    void checkHost(const Request& request) const;
    std::optional<std::string> checkOrigin(const Request& request) const;
    void checkToken(const Request& request) const;
    void checkBodyKind(const Request& request, const std::optional<std::string>& origin) const;
    bool isAllowedOrigin(std::string_view origin) const;

    std::uint16_t port_;
    std::vector<std::string> allowedHosts_;
    std::vector<std::string> allowedOrigins_;
    Secret token_;
};

}  // namespace inkan::api
