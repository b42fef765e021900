// The security gate: Host, Origin, token and body-kind checks, preflights and
// the headers every response carries.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "api/gate.hpp"
#include "daemon/error.hpp"

using namespace inkan;
using namespace inkan::api;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::string_view kPortal = "https://portal.example.jp";

Gate makeGate()
{
    GateOptions options;
    options.port = kPort;
    options.allowedOrigins = {std::string(kPortal), "http://localhost:3000"};
    options.token = Secret(kToken);
    return Gate(std::move(options));
}

std::string host() { return "127.0.0.1:" + std::to_string(kPort); }
std::string bearer() { return "Bearer " + std::string(kToken); }

/// A request as curl would send it: loopback Host and the token.
Request localRequest(std::string method = "GET", std::string target = "/v1/status")
{
    Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.headers.add("Host", host());
    request.headers.add("Authorization", bearer());
    if (request.method == "POST") {
        request.headers.add("Content-Type", "application/json");
        request.headers.add("Inkan-Client", "inkan-cli/0.1.0");
    }
    return request;
}

/// A request as a page of `origin` would send it: no token, Origin, Inkan-Client.
Request browserRequest(std::string_view origin, std::string method = "GET")
{
    Request request;
    request.method = std::move(method);
    request.target = "/v1/status";
    request.headers.add("Host", host());
    request.headers.add("Origin", origin);
    if (request.method == "POST") {
        request.headers.add("Content-Type", "application/json");
        request.headers.add("Inkan-Client", "@inkan/client 0.1.0");
    }
    return request;
}

/// The code the gate refuses with, or nullopt when it admits.
std::optional<ErrorCode> refusal(const Gate& gate, const Request& request)
{
    try {
        gate.admit(request);
        return std::nullopt;
    } catch (const Error& e) {
        return e.code();
    }
}

}  // namespace

TEST_SUITE("api gate: Host")
{
    TEST_CASE("the three loopback names with our port are admitted, case-insensitively")
    {
        const Gate gate = makeGate();
        for (std::string name : {"127.0.0.1", "localhost", "LOCALHOST", "LocalHost", "[::1]"}) {
            CAPTURE(name);
            Request request = localRequest();
            request.headers.set("Host", name + ":" + std::to_string(kPort));
            CHECK(refusal(gate, request) == std::nullopt);
        }
    }

    TEST_CASE("every other Host value is HOST_FORBIDDEN (DNS rebinding and look-alikes)")
    {
        const Gate gate = makeGate();
        const std::string port = std::to_string(kPort);
        const std::vector<std::string> hosts = {
            "127.0.0.1:" + port + ".evil.com",
            "localhost.:" + port,
            "127.0.0.1",                        // missing port
            "localhost",
            "[::1]",
            "127.0.0.1:" + std::to_string(kPort + 1),  // wrong port
            "127.0.0.1:0" + port,
            "127.0.0.1:" + port + " x",
            "evil.example:" + port,
            "attacker.localhost:" + port,
            "localhost.evil.com:" + port,
            "0.0.0.0:" + port,
            "127.0.0.2:" + port,
            "127.1:" + port,
            "[0:0:0:0:0:0:0:1]:" + port,
            "[::ffff:127.0.0.1]:" + port,
            "::1:" + port,
            "user@127.0.0.1:" + port,
            "127.0.0.1:" + port + "/",
            "",
        };
        for (const auto& value : hosts) {
            CAPTURE(value);
            Request request = localRequest();
            request.headers.set("Host", value);
            CHECK(refusal(gate, request) == ErrorCode::HostForbidden);
        }
    }

    TEST_CASE("a missing or repeated Host is HOST_FORBIDDEN")
    {
        const Gate gate = makeGate();
        Request missing;
        missing.method = "GET";
        missing.target = "/v1/status";
        missing.headers.add("Authorization", bearer());
        CHECK(refusal(gate, missing) == ErrorCode::HostForbidden);

        Request twice = localRequest();
        twice.headers.add("host", "evil.example");
        CHECK(refusal(gate, twice) == ErrorCode::HostForbidden);
    }

    TEST_CASE("the Host check comes first: a foreign Host is refused even without token")
    {
        const Gate gate = makeGate();
        Request request;
        request.method = "POST";
        request.target = "/v1/cards/x/sign";
        request.headers.add("Host", "evil.example:" + std::to_string(kPort));
        request.headers.add("Origin", "https://evil.example");
        CHECK(refusal(gate, request) == ErrorCode::HostForbidden);
    }

    TEST_CASE("the refusal does not echo the Host received")
    {
        const Gate gate = makeGate();
        Request request = localRequest();
        request.headers.set("Host", "<script>.evil:1");
        try {
            gate.admit(request);
            FAIL("admitted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find("script") == std::string::npos);
        }
    }
}

TEST_SUITE("api gate: Origin")
{
    TEST_CASE("an allowlisted origin is admitted as a browser caller without the token")
    {
        const Gate gate = makeGate();
        const Admission admission = gate.admit(browserRequest(kPortal));
        CHECK(admission.caller.kind == Caller::Kind::BrowserOrigin);
        CHECK(admission.caller.origin == kPortal);
        CHECK_FALSE(admission.preflight);
        CHECK(refusal(gate, browserRequest(kPortal, "POST")) == std::nullopt);
        CHECK(refusal(gate, browserRequest("http://localhost:3000", "POST")) == std::nullopt);
    }

    TEST_CASE("any other origin is ORIGIN_FORBIDDEN, look-alikes included")
    {
        const Gate gate = makeGate();
        for (const char* origin : {"https://evil.example", "https://portal.example.jp.evil.example",
                                   "https://evilportal.example.jp", "https://sub.portal.example.jp",
                                   "http://portal.example.jp", "https://portal.example.jp:8443",
                                   "https://portal.example.jp:443", "https://PORTAL.example.jp", "HTTPS://portal.example.jp",
                                   "https://portal.example.jp/", "https://portal.example.jp.", " https://portal.example.jp",
                                   "null", "", "*", "http://localhost:3001", "http://127.0.0.1:3000"}) {
            CAPTURE(origin);
            CHECK(refusal(gate, browserRequest(origin)) == ErrorCode::OriginForbidden);
            CHECK(refusal(gate, browserRequest(origin, "POST")) == ErrorCode::OriginForbidden);
        }
    }

    TEST_CASE("a forbidden origin is refused even with the right token (CORS is not authorization)")
    {
        const Gate gate = makeGate();
        Request request = localRequest("POST", "/v1/cards/x/pin/verify");
        request.headers.add("Origin", "https://evil.example");
        request.headers.add("Inkan-Client", "1");
        CHECK(refusal(gate, request) == ErrorCode::OriginForbidden);
    }

    TEST_CASE("a repeated Origin is ORIGIN_FORBIDDEN")
    {
        const Gate gate = makeGate();
        Request request = browserRequest(kPortal);
        request.headers.add("Origin", kPortal);
        CHECK(refusal(gate, request) == ErrorCode::OriginForbidden);
    }

    TEST_CASE("browser POSTs need the Inkan-Client header")
    {
        const Gate gate = makeGate();
        Request request = browserRequest(kPortal, "POST");
        request.headers.set("Inkan-Client", "   ");
        CHECK(refusal(gate, request) == ErrorCode::BadRequest);

        Request without;
        without.method = "POST";
        without.target = "/v1/cards/x/sign";
        without.headers.add("Host", host());
        without.headers.add("Origin", kPortal);
        without.headers.add("Content-Type", "application/json");
        CHECK(refusal(gate, without) == ErrorCode::BadRequest);
    }
}

TEST_SUITE("api gate: preflight and CORS headers")
{
    TEST_CASE("a preflight from an allowlisted origin is answered 204 with that origin only")
    {
        const Gate gate = makeGate();
        Request request = browserRequest(kPortal, "OPTIONS");
        request.headers.add("Access-Control-Request-Method", "POST");
        request.headers.add("Access-Control-Request-Headers", "content-type, inkan-client");
        const Admission admission = gate.admit(request);
        CHECK(admission.preflight);

        Response response = gate.preflight(admission);
        gate.seal(response, gate.corsOrigin(request));
        CHECK(response.status == 204);
        CHECK(response.headers.get("Access-Control-Allow-Origin") == std::optional<std::string_view>(kPortal));
        CHECK(response.headers.get("Access-Control-Allow-Private-Network") == std::optional<std::string_view>("true"));
        CHECK(response.headers.get("Access-Control-Allow-Headers") ==
              std::optional<std::string_view>("Content-Type, Inkan-Client, Authorization, Last-Event-ID"));
        CHECK(response.headers.get("Vary") == std::optional<std::string_view>("Origin"));
        CHECK(response.headers.count("Access-Control-Allow-Credentials") == 0);
    }

    TEST_CASE("a preflight from any other origin is refused")
    {
        const Gate gate = makeGate();
        Request request = browserRequest("https://evil.example", "OPTIONS");
        request.headers.add("Access-Control-Request-Method", "POST");
        CHECK(refusal(gate, request) == ErrorCode::OriginForbidden);
        CHECK_FALSE(gate.corsOrigin(request).has_value());
    }

    TEST_CASE("OPTIONS without Origin is a local request and needs the token")
    {
        const Gate gate = makeGate();
        Request request = localRequest("OPTIONS");
        CHECK(gate.admit(request).preflight);
        request.headers.set("Authorization", "Bearer wrong");
        CHECK(refusal(gate, request) == ErrorCode::Unauthorized);
    }

    TEST_CASE("responses echo an allowlisted origin, never '*', and only that one")
    {
        const Gate gate = makeGate();
        Response forPortal;
        gate.seal(forPortal, gate.corsOrigin(browserRequest(kPortal)));
        CHECK(forPortal.headers.get("Access-Control-Allow-Origin") == std::optional<std::string_view>(kPortal));
        CHECK(forPortal.headers.count("Access-Control-Allow-Credentials") == 0);

        Response forEvil;
        gate.seal(forEvil, gate.corsOrigin(browserRequest("https://evil.example")));
        CHECK(forEvil.headers.count("Access-Control-Allow-Origin") == 0);

        Response forCurl;
        gate.seal(forCurl, gate.corsOrigin(localRequest()));
        CHECK(forCurl.headers.count("Access-Control-Allow-Origin") == 0);
        CHECK(forCurl.headers.get("Vary") == std::optional<std::string_view>("Origin"));
    }

    TEST_CASE("every sealed response carries the security headers")
    {
        const Gate gate = makeGate();
        Response response;
        response.status = 500;
        gate.seal(response, std::nullopt);
        CHECK(response.headers.get("Cache-Control") == std::optional<std::string_view>("no-store"));
        CHECK(response.headers.get("X-Content-Type-Options") == std::optional<std::string_view>("nosniff"));
        CHECK(response.headers.get("Content-Security-Policy") ==
              std::optional<std::string_view>("default-src 'none'; frame-ancestors 'none'"));
    }
}

TEST_SUITE("api gate: token")
{
    TEST_CASE("the right token admits a local client")
    {
        const Gate gate = makeGate();
        const Admission admission = gate.admit(localRequest());
        CHECK(admission.caller.kind == Caller::Kind::LocalClient);
        Request lowerScheme = localRequest();
        lowerScheme.headers.set("Authorization", "bearer " + std::string(kToken));
        CHECK(refusal(gate, lowerScheme) == std::nullopt);
    }

    TEST_CASE("a missing, malformed or wrong token is UNAUTHORIZED")
    {
        const Gate gate = makeGate();
        const std::string token(kToken);
        std::string flipped = token;
        flipped.back() = flipped.back() == 'f' ? 'e' : 'f';
        std::string upper = token;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const std::string& value : std::vector<std::string>{std::string(), "Bearer", "Bearer ", "Bearer " + token.substr(1),
                                         "Bearer " + token + "0", "Bearer " + flipped, "Bearer " + upper,
                                         "Basic " + token, token, "Bearer" + token, "Bearer " + std::string(64, '0')}) {
            CAPTURE(value);
            Request request = localRequest();
            request.headers.set("Authorization", value);
            CHECK(refusal(gate, request) == ErrorCode::Unauthorized);
        }
        Request none;
        none.method = "GET";
        none.target = "/v1/status";
        none.headers.add("Host", host());
        CHECK(refusal(gate, none) == ErrorCode::Unauthorized);
    }

    TEST_CASE("a repeated Authorization header is UNAUTHORIZED")
    {
        const Gate gate = makeGate();
        Request request = localRequest();
        request.headers.add("Authorization", bearer());
        CHECK(refusal(gate, request) == ErrorCode::Unauthorized);
    }

    TEST_CASE("a gate without a token admits no local client")
    {
        GateOptions options;
        options.port = kPort;
        const Gate gate(std::move(options));
        Request request = localRequest();
        request.headers.set("Authorization", "Bearer ");
        CHECK(refusal(gate, request) == ErrorCode::Unauthorized);
    }
}

TEST_SUITE("api gate: body kind")
{
    TEST_CASE("requests that act must be JSON: forms and text are UNSUPPORTED_MEDIA_TYPE")
    {
        const Gate gate = makeGate();
        for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                 "application/jsonx", "application/json-patch+json", "json", ""}) {
            CAPTURE(type);
            Request request = localRequest("POST", "/v1/cards/x/pin/verify");
            request.headers.set("Content-Type", type);
            CHECK(refusal(gate, request) == ErrorCode::UnsupportedMediaType);
        }
        Request missing;
        missing.method = "POST";
        missing.target = "/v1/cards/x/sign";
        missing.headers.add("Host", host());
        missing.headers.add("Authorization", bearer());
        CHECK(refusal(gate, missing) == ErrorCode::UnsupportedMediaType);

        Request other = localRequest("DELETE", "/v1/cards/x");
        CHECK(refusal(gate, other) == ErrorCode::UnsupportedMediaType);
    }

    TEST_CASE("JSON with parameters or in other case is accepted; GET needs no Content-Type")
    {
        const Gate gate = makeGate();
        for (const char* type : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                                 " application/json ;charset=UTF-8"}) {
            CAPTURE(type);
            Request request = localRequest("POST", "/v1/cards/x/pin/verify");
            request.headers.set("Content-Type", type);
            CHECK(refusal(gate, request) == std::nullopt);
        }
        CHECK(refusal(gate, localRequest("GET")) == std::nullopt);
    }

    TEST_CASE("the token is checked before the body kind")
    {
        const Gate gate = makeGate();
        Request request = localRequest("POST", "/v1/cards/x/sign");
        request.headers.set("Content-Type", "text/plain");
        request.headers.set("Authorization", "Bearer nope");
        CHECK(refusal(gate, request) == ErrorCode::Unauthorized);
    }
}

TEST_SUITE("api gate: inkand's own origin")
{
    TEST_CASE("the own origin, or Sec-Fetch-Site: same-origin, without a console session is UNAUTHORIZED")
    {
        const Gate gate = makeGate();
        for (const char* origin : {"https://127.0.0.1:24713", "https://localhost:24713", "https://[::1]:24713"}) {
            CAPTURE(origin);
            CHECK(refusal(gate, browserRequest(origin)) == ErrorCode::Unauthorized);
            CHECK(refusal(gate, browserRequest(origin, "POST")) == ErrorCode::Unauthorized);
        }
        Request fetchMetadata = browserRequest(kPortal);
        fetchMetadata.headers = {};
        fetchMetadata.headers.add("Host", host());
        fetchMetadata.headers.add("Sec-Fetch-Site", "same-origin");
        CHECK(refusal(gate, fetchMetadata) == ErrorCode::Unauthorized);
    }

    TEST_CASE("a live console session admits the own origin as the console, with the session's id")
    {
        const Gate gate = makeGate();
        const security::LoginCode code = gate.consoleSessions().issueCode();
        const auto session = gate.consoleSessions().redeem(code.code.view());
        REQUIRE(session.has_value());
        const std::string cookie = "__Host-inkan-console-24713=" + std::string(session->value.view());
        CHECK(gate.sessionCookieName() == "__Host-inkan-console-24713");

        Request post = browserRequest("https://localhost:24713", "POST");
        post.headers.add("Cookie", cookie);
        const Admission acting = gate.admit(post);
        CHECK(acting.caller.kind == Caller::Kind::OwnOrigin);
        CHECK(acting.caller.origin == "https://localhost:24713");
        CHECK(acting.caller.session == session->id);

        // A same-origin GET carries no Origin: the own origin is the one the Host names.
        Request read = localRequest();
        read.headers = {};
        read.headers.add("Host", "LOCALHOST:24713");
        read.headers.add("Cookie", "theme=dark; " + cookie);
        const Admission reading = gate.admit(read);
        CHECK(reading.caller.kind == Caller::Kind::OwnOrigin);
        CHECK(reading.caller.origin == "https://localhost:24713");
        CHECK(reading.caller.session == session->id);

        // Another origin with the console's cookie is still that other origin.
        Request portal = browserRequest(kPortal);
        portal.headers.add("Cookie", cookie);
        CHECK(gate.admit(portal).caller.kind == Caller::Kind::BrowserOrigin);
    }
}
