// inkan — the route table: "/v1/cards/{cardId}/pin" patterns, one handler per
// method. Knows nothing of cards; answers 404 and 405 (with Allow) itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/gate.hpp"
#include "api/http_message.hpp"

namespace inkan::api {

/// Path parameters in pattern order, percent-decoded.
using PathParams = std::vector<std::string>;

/// What a handler may know about its request. The request (and its body) is
/// only valid until the handler returns: anything needed later is copied.
struct RequestContext {
    const Request& request;
    const Caller& caller;
    const PathParams& params;
};

/// Handles one request; calls `respond` exactly once, now or later, from any thread.
using Handler = std::function<void(const RequestContext& context, Respond respond)>;

class Router {
public:
    /// How a route's parameters are percent-decoded.
    enum class Slashes {
        Refused,  // a decoded '/' makes the route not match (ids never hold one)
        Allowed,  // the parameter is a value that holds '/' (a web origin, "https://...")
    };

    /// Register `handler` for `method` on `pattern`. Pattern segments in braces
    /// match one non-empty path segment.
    void add(std::string_view method, std::string_view pattern, Handler handler, Slashes slashes = Slashes::Refused);

    struct Match {
        enum class Kind { Found, NotFound, MethodNotAllowed };
        Kind kind = Kind::NotFound;
        const Handler* handler = nullptr;
        PathParams params;
        std::string allow;  // for MethodNotAllowed, e.g. "GET, POST"
    };

    Match match(std::string_view method, std::string_view path) const;

private:
    struct Route {
        std::vector<std::string> segments;  // "{name}" marks a parameter
        std::string method;
        Handler handler;
        Slashes slashes = Slashes::Refused;
    };
    std::vector<Route> routes_;
};

/// Percent-decode one path segment (RFC 3986 §2.1). nullopt for malformed
/// escapes and for control characters or (unless `allowSlash`) '/' once decoded.
std::optional<std::string> decodePathSegment(std::string_view segment, bool allowSlash = false);

}  // namespace inkan::api
