#include "api/gate.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#include "api/console.hpp"
#include "daemon/error.hpp"
#include "daemon/security/origin.hpp"

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
constexpr std::string_view kCookie = "Cookie";  // RFC 6265 §5.4
// The console's session cookie: "__Host-" (RFC 6265bis §4.1.3.2) and the port,
// so inkands on two ports in one browser keep their sessions apart.
constexpr std::string_view kSessionCookiePrefix = "__Host-inkan-console-";

constexpr std::string_view kBearerScheme = "Bearer";  // RFC 6750 §2.1; scheme names are case-insensitive
constexpr std::string_view kJsonMediaType = "application/json";

constexpr std::string_view kGet = "GET";
constexpr std::string_view kOptions = "OPTIONS";
constexpr std::string_view kAllowedMethods = "GET, POST, DELETE, OPTIONS";
// What pages may use (DELETE is for the local client only).
constexpr std::string_view kCorsAllowedMethods = "GET, POST, OPTIONS";

// CORS (Fetch standard §3.2.3): what an allowlisted page may send and see.
constexpr std::string_view kCorsAllowOrigin = "Access-Control-Allow-Origin";
constexpr std::string_view kCorsAllowMethods = "Access-Control-Allow-Methods";
constexpr std::string_view kCorsAllowHeaders = "Access-Control-Allow-Headers";
constexpr std::string_view kCorsMaxAge = "Access-Control-Max-Age";
// Last-Event-ID: a browser resuming the event stream sends it (docs/events.md).
constexpr std::string_view kCorsAllowedHeaders = "Content-Type, Inkan-Client, Authorization, Last-Event-ID";
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
// For browsers that predate CSP frame-ancestors.
constexpr std::string_view kFrameOptions = "X-Frame-Options";
constexpr std::string_view kDeny = "DENY";

constexpr int kNoContent = 204;

// What an origin that is neither allowlisted nor paired may reach: asking for
// pairing, polling its answer, and learning where it stands.
constexpr std::string_view kPairingsPath = "/v1/pairings";
constexpr std::string_view kAccessPath = "/v1/access";
constexpr std::string_view kPost = "POST";
// Where the console page trades its login code for a session (api/console_session.cpp).
constexpr std::string_view kConsoleSessionPath = "/v1/console/session";

/// POST /v1/pairings, GET /v1/pairings/{id}, GET /v1/access, and their preflights.
bool isPairingRoute(const Request& request)
{
    const std::string_view path = request.path();
    const bool preflight = request.method == kOptions;
    if (path == kPairingsPath) return preflight || request.method == kPost;
    if (path == kAccessPath) return preflight || request.method == kGet;
    const std::string prefix = std::string(kPairingsPath) + "/";
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
        path.find('/', prefix.size()) == std::string_view::npos) {
        return preflight || request.method == kGet;
    }
    return false;
}

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

constexpr std::string_view kOpenTheConsole =
    "open the console with `inkan console`, which logs it in (docs/security.md \"The console logs in\")";

/// The value of cookie `name` in one Cookie header ("a=1; b=2", RFC 6265 §4.2.1),
/// and how often it occurs there.
void findCookie(std::string_view header, std::string_view name, std::optional<std::string_view>& value, int& count)
{
    while (!header.empty()) {
        const std::size_t semicolon = header.find(';');
        const std::string_view pair = trim(header.substr(0, semicolon));
        const std::size_t equals = pair.find('=');
        if (equals != std::string_view::npos && trim(pair.substr(0, equals)) == name) {
            value = trim(pair.substr(equals + 1));
            ++count;
        }
        if (semicolon == std::string_view::npos) break;
        header.remove_prefix(semicolon + 1);
    }
}

}  // namespace

Gate::Gate(GateOptions options)
    : port_(options.port), allowedOrigins_(std::move(options.allowedOrigins)), token_(std::move(options.token)),
      pairings_(std::move(options.pairings)), allowInsecureLocalhostOrigins_(options.allowInsecureLocalhostOrigins),
      consoleSessions_(options.consoleSessions ? std::move(options.consoleSessions)
                                               : std::make_shared<security::ConsoleSessions>()),
      sessionCookieName_(std::string(kSessionCookiePrefix) + std::to_string(port_))
{
    const std::string port = std::to_string(port_);
    // RFC 9110 §7.2: Host is uri-host [":" port]; only these three name this daemon.
    allowedHosts_ = {"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port};
    // The origins of the console page inkand serves itself (RFC 6454 §6.2 serializations).
    ownOrigins_ = {"https://127.0.0.1:" + port, "https://localhost:" + port, "https://[::1]:" + port};
}

Admission Gate::admit(const Request& request) const
{
    checkHost(request);
    Admission admission;
    const std::optional<std::string> origin = checkOrigin(request);
    const std::optional<std::string> session = consoleSession(request);
    if (origin && isOwnOrigin(*origin)) {
        admission.caller = ownOriginCaller(request, *origin, session);
        if (request.method == kOptions) {
            admission.preflight = true;
            return admission;
        }
    } else if (origin) {
        admission.caller = Caller{classifyOrigin(*origin, request), *origin, {}};
        // Browsers send preflights without credentials; the origin check above is their gate.
        if (request.method == kOptions) {
            admission.preflight = true;
            return admission;
        }
    } else if (session && request.method == kGet) {
        // Browsers send no Origin with same-origin GETs (Fetch standard, "append
        // a request Origin header"): the console's reads are known by the
        // session cookie alone, which SameSite=Strict keeps off other sites'
        // requests. Anything that acts carries an Origin and is checked above.
        admission.caller = Caller{Caller::Kind::OwnOrigin, ownOriginOfHost(request), *session};
    } else if (request.method == kGet && isConsolePath(request.path())) {
        admission.caller = Caller{Caller::Kind::Public, {}, {}};
    } else if (sessionCookie(request) && !request.headers.get(kAuthorization)) {
        throw unauthorized("the console session is unknown or has expired: " + std::string(kOpenTheConsole));
    } else {
        checkToken(request);
        admission.caller = Caller{Caller::Kind::LocalClient, {}, {}};
        if (request.method == kOptions) {
            admission.preflight = true;
            return admission;
        }
    }
    // What each caller may do with which card is decided behind the router
    // (daemon/security/card_access.*), on admission.caller.
    checkBodyKind(request);
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
    return std::string(*origin);
}

Caller::Kind Gate::classifyOrigin(std::string_view origin, const Request& request) const
{
    if (isOwnOrigin(origin)) return Caller::Kind::OwnOrigin;
    if (isAllowedOrigin(origin)) return Caller::Kind::BrowserOrigin;
    // Only an origin that could ever be paired may ask: https, exactly as a
    // browser serializes it ("null", look-alikes and plain http never).
    if (isPairingRoute(request) && security::isTrustworthyOrigin(origin, allowInsecureLocalhostOrigins_)) {
        return Caller::Kind::PairingCandidate;
    }
    throw Error(ErrorCode::OriginForbidden,
                "this origin is not allowed to use inkand; a page may ask the user for access with POST /v1/pairings");
}

bool Gate::isAllowedOrigin(std::string_view origin) const
{
    // Exact comparison of serialized origins: "https://a.example" never matches
    // "https://a.example.evil" or "http://a.example".
    if (std::find(allowedOrigins_.begin(), allowedOrigins_.end(), origin) != allowedOrigins_.end()) return true;
    // A pairing made under --allow-insecure-localhost-origins does not outlive that setting.
    return pairings_ && pairings_->isPaired(origin) &&
           security::isTrustworthyOrigin(origin, allowInsecureLocalhostOrigins_);
}

bool Gate::isOwnOrigin(std::string_view origin) const
{
    return std::find(ownOrigins_.begin(), ownOrigins_.end(), origin) != ownOrigins_.end();
}

Caller Gate::ownOriginCaller(const Request& request, std::string origin, const std::optional<std::string>& session) const
{
    if (session) return Caller{Caller::Kind::OwnOrigin, std::move(origin), *session};
    // The page and its files hold no secret; fetching them as a module script may carry the Origin.
    if (request.method == kGet && isConsolePath(request.path())) return Caller{Caller::Kind::Public, std::move(origin), {}};
    if (request.method == kPost && request.path() == kConsoleSessionPath) {
        return Caller{Caller::Kind::ConsoleLogin, std::move(origin), {}};
    }
    // The Origin alone is what any local process can write: no standing, the card untouched.
    throw unauthorized(std::string(sessionCookie(request) ? "the console session is unknown or has expired: "
                                                          : "inkand's own origin needs a console session: ") +
                       std::string(kOpenTheConsole));
}

std::optional<std::string_view> Gate::sessionCookie(const Request& request) const
{
    std::optional<std::string_view> value;
    int count = 0;
    for (const auto& [name, field] : request.headers.fields()) {
        if (equalsIgnoreCase(name, kCookie)) findCookie(field, sessionCookieName_, value, count);
    }
    // Two cookies of that name could be read differently elsewhere: neither counts.
    if (count != 1 || !value || value->empty()) return std::nullopt;
    return value;
}

std::optional<std::string> Gate::consoleSession(const Request& request) const
{
    const auto value = sessionCookie(request);
    if (!value) return std::nullopt;
    return consoleSessions_->identify(*value);
}

std::string Gate::ownOriginOfHost(const Request& request) const
{
    const std::string_view host = request.headers.get(kHost).value_or("");
    for (std::size_t i = 0; i < allowedHosts_.size(); ++i) {
        if (equalsIgnoreCase(host, allowedHosts_[i])) return ownOrigins_[i];
    }
    return ownOrigins_.front();
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

void Gate::checkBodyKind(const Request& request) const
{
    if (request.method == kGet) return;

    const auto contentType = singleField(request, kContentType, ErrorCode::UnsupportedMediaType);
    const std::string_view mediaType = contentType ? trim(contentType->substr(0, contentType->find(';'))) : "";
    if (!equalsIgnoreCase(mediaType, kJsonMediaType)) {
        throw Error(ErrorCode::UnsupportedMediaType, "send the request body as Content-Type: application/json");
    }
    // A custom header forces a browser to preflight, which the origin check
    // above has answered; local clients send it too, so one rule covers all.
    const auto client = request.headers.get(kInkanClient);
    if (!client || trim(*client).empty()) {
        throw Error(ErrorCode::BadRequest, "requests other than GET must carry the Inkan-Client header (any non-empty value)");
    }
}

Response Gate::preflight(const Admission& admission) const
{
    Response response;
    response.status = kNoContent;
    response.headers.set(kAllow, kAllowedMethods);
    if (admission.caller.kind != Caller::Kind::LocalClient) {
        response.headers.set(kCorsAllowMethods, kCorsAllowedMethods);
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
    if (!origin) return std::nullopt;
    try {
        // The same decisions as admit(): a refused request, whether for its
        // Host or its Origin, may not even be read by the page.
        checkHost(request);
        (void)classifyOrigin(*origin, request);
    } catch (const Error&) {
        return std::nullopt;
    }
    return std::string(*origin);
}

void Gate::seal(Response& response, const std::optional<std::string>& corsOrigin) const
{
    // The console's files (api/console.cpp) come with their own cache and
    // content policies; everything else gets none at all.
    if (!response.headers.get(kCacheControl)) response.headers.set(kCacheControl, kNoStore);
    response.headers.set(kContentTypeOptions, kNoSniff);
    if (!response.headers.get(kContentSecurityPolicy)) response.headers.set(kContentSecurityPolicy, kNothingAllowed);
    response.headers.set(kFrameOptions, kDeny);
    // The answer depends on Origin (CORS headers, refusals), so caches must key on it.
    response.headers.set(kVary, kOrigin);
    if (corsOrigin) {
        // Only the allowlisted origin itself, never "*", and never credentials.
        response.headers.set(kCorsAllowOrigin, *corsOrigin);
    }
}

}  // namespace inkan::api
