#include "api/gate.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#include "daemon/error.hpp"

namespace inkan::api {

namespace {

// Header names (RFC 9110, Fetch standard for CORS, and our own Inkan-Client).
constexpr std::string_view kHost = "Host";
constexpr std::string_view kOrigin = "Origin";
constexpr std::string_view kAuthorization = "Authorization";
constexpr std::string_view kContentType = "Content-Type";
constexpr std::string_view kInkanClient = "Inkan-Client";
constexpr std::string_view kAllow = "Allow";
constexpr std::string_view kVary = "Vary";

constexpr std::string_view kBearerScheme = "Bearer";  // RFC 6750 §2.1; scheme names are case-insensitive
constexpr std::string_view kJsonMediaType = "application/json";

constexpr std::string_view kGet = "GET";
constexpr std::string_view kOptions = "OPTIONS";
constexpr std::string_view kAllowedMethods = "GET, POST, OPTIONS";

// CORS (Fetch standard §3.2.3): what an allowlisted page may send and see.
constexpr std::string_view kCorsAllowOrigin = "Access-Control-Allow-Origin";
constexpr std::string_view kCorsAllowMethods = "Access-Control-Allow-Methods";
constexpr std::string_view kCorsAllowHeaders = "Access-Control-Allow-Headers";
constexpr std::string_view kCorsMaxAge = "Access-Control-Max-Age";
constexpr std::string_view kCorsAllowedHeaders = "Content-Type, Inkan-Client, Authorization";
constexpr std::string_view kCorsPreflightMaxAge = "600";
// Private Network Access preflights (older Chrome); harmless where unused.
constexpr std::string_view kCorsAllowPrivateNetwork = "Access-Control-Allow-Private-Network";

// Responses are never cached, never sniffed, never framed or rendered as a page.
constexpr std::string_view kCacheControl = "Cache-Control";
constexpr std::string_view kNoStore = "no-store";
constexpr std::string_view kContentTypeOptions = "X-Content-Type-Options";
constexpr std::string_view kNoSniff = "nosniff";
constexpr std::string_view kContentSecurityPolicy = "Content-Security-Policy";
constexpr std::string_view kNothingAllowed = "default-src 'none'; frame-ancestors 'none'";

constexpr int kNoContent = 204;

std::string_view trim(std::string_view text)
{
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return text;
}

/// The value of a field the gate decides on: absent, or present exactly once.
/// A repeated field could be read differently by another component, so it is refused.
std::optional<std::string_view> singleField(const Request& request, std::string_view name, ErrorCode refusal)
{
    const std::size_t count = request.headers.count(name);
    if (count == 0) return std::nullopt;
    if (count > 1) throw Error(refusal, "the " + std::string(name) + " header appears more than once");
    return request.headers.get(name);
}

Error unauthorized(std::string message)
{
    return Error(ErrorCode::Unauthorized, std::move(message));
}

}  // namespace

Gate::Gate(GateOptions options)
    : port_(options.port), allowedOrigins_(std::move(options.allowedOrigins)), token_(std::move(options.token))
{
    const std::string port = std::to_string(port_);
    // RFC 9110 §7.2: Host is uri-host [":" port]; only these three name this daemon.
    allowedHosts_ = {"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port};
}

Admission Gate::admit(const Request& request) const
{
    checkHost(request);
    Admission admission;
    const std::optional<std::string> origin = checkOrigin(request);
    if (origin) {
        admission.caller = Caller{Caller::Kind::BrowserOrigin, *origin};
        // Browsers send preflights without credentials; the origin check above is their gate.
        if (request.method == kOptions) {
            admission.preflight = true;
            return admission;
        }
    } else {
        checkToken(request);
        admission.caller = Caller{Caller::Kind::LocalClient, {}};
        if (request.method == kOptions) {
            admission.preflight = true;
            return admission;
        }
    }
    // Later issues: pairing and per-origin policy decide here, on admission.caller.
    checkBodyKind(request, origin);
    return admission;
}

void Gate::checkHost(const Request& request) const
{
    const auto host = singleField(request, kHost, ErrorCode::HostForbidden);
    if (!host) throw Error(ErrorCode::HostForbidden, "the Host header is required");
    const bool allowed = std::any_of(allowedHosts_.begin(), allowedHosts_.end(),
                                     [&](const std::string& name) { return equalsIgnoreCase(*host, name); });
    if (!allowed) {
        // The received value is not echoed: it is attacker-controlled.
        throw Error(ErrorCode::HostForbidden, "the Host header must be 127.0.0.1:" + std::to_string(port_) +
                                                  ", localhost:" + std::to_string(port_) + " or [::1]:" +
                                                  std::to_string(port_));
    }
}

std::optional<std::string> Gate::checkOrigin(const Request& request) const
{
    const auto origin = singleField(request, kOrigin, ErrorCode::OriginForbidden);
    if (!origin) return std::nullopt;
    if (!isAllowedOrigin(*origin)) throw Error(ErrorCode::OriginForbidden, "this origin is not allowed to use inkand");
    return std::string(*origin);
}

bool Gate::isAllowedOrigin(std::string_view origin) const
{
    // Exact comparison of serialized origins: "https://a.example" never matches
    // "https://a.example.evil" or "http://a.example".
    return std::find(allowedOrigins_.begin(), allowedOrigins_.end(), origin) != allowedOrigins_.end();
}

void Gate::checkToken(const Request& request) const
{
    const auto authorization = singleField(request, kAuthorization, ErrorCode::Unauthorized);
    if (!authorization) throw unauthorized("send the token of <state>/token as 'Authorization: Bearer <token>'");

    const std::string_view value = trim(*authorization);
    const std::size_t space = value.find(' ');
    if (space == std::string_view::npos || !equalsIgnoreCase(value.substr(0, space), kBearerScheme)) {
        throw unauthorized("the Authorization header must use the Bearer scheme");
    }
    const std::string_view presented = trim(value.substr(space + 1));
    const std::string_view expected = token_.view();
    // The token's length is public (64 hex digits); its content is compared in constant time.
    if (expected.empty() || presented.size() != expected.size() ||
        CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) != 0) {
        throw unauthorized("wrong API token");
    }
}

void Gate::checkBodyKind(const Request& request, const std::optional<std::string>& origin) const
{
    if (request.method == kGet) return;

    const auto contentType = singleField(request, kContentType, ErrorCode::UnsupportedMediaType);
    const std::string_view mediaType = contentType ? trim(contentType->substr(0, contentType->find(';'))) : "";
    if (!equalsIgnoreCase(mediaType, kJsonMediaType)) {
        throw Error(ErrorCode::UnsupportedMediaType, "send the request body as Content-Type: application/json");
    }
    if (origin) {
        // A custom header forces a CORS preflight, which the origin check above has answered.
        const auto client = request.headers.get(kInkanClient);
        if (!client || trim(*client).empty()) {
            throw Error(ErrorCode::BadRequest, "browser requests must carry the Inkan-Client header");
        }
    }
}

Response Gate::preflight(const Admission& admission) const
{
    Response response;
    response.status = kNoContent;
    response.headers.set(kAllow, kAllowedMethods);
    if (admission.caller.kind == Caller::Kind::BrowserOrigin) {
        response.headers.set(kCorsAllowMethods, kAllowedMethods);
        response.headers.set(kCorsAllowHeaders, kCorsAllowedHeaders);
        response.headers.set(kCorsMaxAge, kCorsPreflightMaxAge);
        response.headers.set(kCorsAllowPrivateNetwork, "true");
    }
    return response;
}

std::optional<std::string> Gate::corsOrigin(const Request& request) const
{
    if (request.headers.count(kOrigin) != 1) return std::nullopt;
    const auto origin = request.headers.get(kOrigin);
    if (!origin || !isAllowedOrigin(*origin)) return std::nullopt;
    return std::string(*origin);
}

void Gate::seal(Response& response, const std::optional<std::string>& corsOrigin) const
{
    response.headers.set(kCacheControl, kNoStore);
    response.headers.set(kContentTypeOptions, kNoSniff);
    response.headers.set(kContentSecurityPolicy, kNothingAllowed);
    // The answer depends on Origin (CORS headers, refusals), so caches must key on it.
    response.headers.set(kVary, kOrigin);
    if (corsOrigin) {
        // Only the allowlisted origin itself, never "*", and never credentials.
        response.headers.set(kCorsAllowOrigin, *corsOrigin);
    }
}

}  // namespace inkan::api
