// The console (api/console.*, api/console_session.*) and the gate's rules for
// inkand's own origin: the page and its files are public; the page's API
// calls are admitted only with a console session, which a login code from the
// local client buys; the own origin, Sec-Fetch-Site or a stale cookie alone
// get nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/console.hpp"
#include "api/console_assets.hpp"
#include "api/policy.hpp"
#include "daemon/error.hpp"
#include "daemon/security/console_sessions.hpp"
#include "tests/unit/api_serve.hpp"
#include "tests/unit/no_cards_agent.hpp"

using namespace inkan;
using namespace inkan::api;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000";

constexpr std::string_view kOwnOrigin = "https://127.0.0.1:24713";
constexpr std::string_view kCookieName = "__Host-inkan-console-24713";

struct Fixture {
    test::NoCards agent;
    security::ConsoleSessions::Clock::time_point now{std::chrono::hours(1000)};
    std::unique_ptr<Api> api;

    Fixture()
    {
        GateOptions gate;
        gate.port = kPort;
        gate.token = Secret(kToken);
        gate.allowedOrigins = {"https://portal.example"};
        security::ConsoleSessionOptions sessions;
        sessions.now = [this] { return now; };
        gate.consoleSessions = std::make_shared<security::ConsoleSessions>(std::move(sessions));
        api = std::make_unique<Api>(agent, std::move(gate), "test");
    }

    /// A request with our Host and nothing else: what a browser navigation sends.
    static Request bare(std::string method, std::string target)
    {
        Request request;
        request.method = std::move(method);
        request.target = std::move(target);
        request.headers.add("Host", "127.0.0.1:" + std::to_string(kPort));
        return request;
    }

    /// A request with the local API token, as the CLI sends it.
    static Request local(std::string method, std::string target)
    {
        Request request = bare(method, std::move(target));
        request.headers.add("Authorization", "Bearer " + std::string(kToken));
        if (method != "GET") {
            request.headers.add("Content-Type", "application/json");
            request.headers.add("Inkan-Client", "inkan-cli");
            request.body = "{}";
        }
        return request;
    }

    /// A fetch() of the console page: same-origin GETs carry Sec-Fetch-Site
    /// but no Origin; everything else carries Origin. `cookie`: the Cookie
    /// header's value, if any.
    static Request fromConsole(std::string method, std::string target, std::optional<std::string> cookie,
                               std::string_view origin = kOwnOrigin)
    {
        Request request = bare(method, std::move(target));
        request.headers.add("Sec-Fetch-Site", "same-origin");
        if (cookie) request.headers.add("Cookie", *cookie);
        if (method != "GET") {
            request.headers.add("Origin", origin);
            request.headers.add("Content-Type", "application/json");
            request.headers.add("Inkan-Client", "inkan-console");
            request.body = R"({"pin":"1234","newPin":"5678"})";
        }
        return request;
    }

    Response serve(const Request& request) { return test::serveOnce(*api, request); }

    /// A login code, as `inkan console` asks for it.
    std::string loginCode()
    {
        const Response response = serve(local("POST", "/v1/console/login"));
        REQUIRE(response.status == 200);
        return nlohmann::json::parse(response.body).at("code").get<std::string>();
    }

    /// The console page's trade of `code`: the answer, with its Set-Cookie.
    Response trade(std::string_view code, std::optional<std::string> cookie = std::nullopt)
    {
        Request request = fromConsole("POST", "/v1/console/session", std::move(cookie));
        request.body = nlohmann::json{{"code", code}}.dump();
        return serve(request);
    }

    /// "NAME=VALUE" of a fresh session, as the browser sends it back.
    std::string login()
    {
        const Response response = trade(loginCode());
        REQUIRE(response.status == 204);
        const std::string setCookie(response.headers.get("Set-Cookie").value_or(""));
        return setCookie.substr(0, setCookie.find(';'));
    }
};

}  // namespace

TEST_SUITE("console")
{
    TEST_CASE("the console page is served at / without a token, as HTML that may run only its own scripts")
    {
        Fixture f;
        const Response page = f.serve(Fixture::bare("GET", "/"));
        CHECK(page.status == 200);
        CHECK(page.contentType == "text/html; charset=utf-8");
        CHECK(page.body.find("<html") != std::string::npos);
        const auto policy = std::string(page.headers.get("Content-Security-Policy").value_or(""));
        CHECK(policy.find("script-src 'self'") != std::string::npos);
        CHECK(policy.find("connect-src 'self'") != std::string::npos);
        CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
        CHECK(policy.find("'unsafe-inline'") == std::string::npos);
        CHECK(page.headers.get("X-Frame-Options") == "DENY");
        CHECK(page.headers.get("X-Content-Type-Options") == "nosniff");
        CHECK(page.headers.count("Content-Security-Policy") == 1);
        CHECK(page.headers.get("Cache-Control") == "no-cache");
        CHECK(page.headers.get("ETag").has_value());
    }

    TEST_CASE("every embedded file is served under /console/ with its content type and a strong ETag")
    {
        Fixture f;
        const auto files = console::assets();
        REQUIRE_FALSE(files.empty());
        for (const auto& file : files) {
            CAPTURE(file.name);
            const Response response = f.serve(Fixture::bare("GET", "/console/" + std::string(file.name)));
            CHECK(response.status == 200);
            CHECK(response.contentType == file.contentType);
            CHECK(response.body == file.content);
            const auto etag = response.headers.get("ETag");
            REQUIRE(etag.has_value());
            CHECK(etag->size() > 2);
            CHECK(etag->front() == '"');
            CHECK_FALSE(etag->starts_with("W/"));
        }
    }

    TEST_CASE("the SDK's modules are embedded under sdk/ and served as the console imports them, with the console's policy")
    {
        Fixture f;
        const auto files = console::assets();
        const auto named = [&](std::string_view name) {
            return std::find_if(files.begin(), files.end(), [&](const console::Asset& file) { return file.name == name; });
        };
        REQUIRE(named("sdk/index.js") != files.end());
        REQUIRE(named("sdk/generated/openapi.js") != files.end());
        REQUIRE(named("api.js") != files.end());
        // The console's client is the SDK's, not a copy of it.
        CHECK(named("api.js")->content.find("from './sdk/index.js'") != std::string_view::npos);
        CHECK(named("events.js") == files.end());
        CHECK(named("sdk/index.js")->content.find("export") != std::string_view::npos);

        for (const char* target : {"/console/sdk/index.js", "/console/sdk/generated/openapi.js"}) {
            CAPTURE(target);
            const Response response = f.serve(Fixture::bare("GET", target));
            CHECK(response.status == 200);
            CHECK(response.contentType == "text/javascript; charset=utf-8");
            const auto policy = std::string(response.headers.get("Content-Security-Policy").value_or(""));
            CHECK(policy.find("script-src 'self'") != std::string::npos);
            CHECK(response.headers.get("Cross-Origin-Resource-Policy") == "same-origin");
        }
        CHECK(isConsolePath("/console/sdk/index.js"));
    }

    TEST_CASE("a file the browser already has is answered 304 without a body")
    {
        Fixture f;
        const Response first = f.serve(Fixture::bare("GET", "/"));
        const std::string etag(first.headers.get("ETag").value());

        for (const std::string& condition : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
            CAPTURE(condition);
            Request again = Fixture::bare("GET", "/");
            again.headers.add("If-None-Match", condition);
            const Response response = f.serve(again);
            CHECK(response.status == 304);
            CHECK(response.body.empty());
            CHECK(response.headers.get("ETag") == etag);
        }
        Request stale = Fixture::bare("GET", "/");
        stale.headers.add("If-None-Match", "\"stale\"");
        CHECK(f.serve(stale).status == 200);
    }

    TEST_CASE("unknown console files are NOT_FOUND, dot segments and encoded slashes included")
    {
        Fixture f;
        for (const char* target : {"/console/missing.js", "/console/%2e%2e", "/console/..%2Fstate%2Ftoken", "/console/",
                                   "/console", "/index.html", "/console/sdk/missing.js", "/console/sdk/../app.js",
                                   "/console/sdk/..%2Fapp.js", "/console/sdk/generated/../index.js", "/console/sdk",
                                   "/console/sdk/", "/console/generated/openapi.js", "/console/index.js"}) {
            CAPTURE(target);
            const Response response = f.serve(Fixture::bare("GET", target));
            if (response.status == 401) {
                // Not a console path at all: the gate wants the token first.
                CHECK(test::problemCodeOf(response) == "UNAUTHORIZED");
            } else {
                CHECK(response.status == 404);
                CHECK(test::problemCodeOf(response) == "NOT_FOUND");
            }
        }
    }

    TEST_CASE("console paths are public for GET only: other methods still need credentials")
    {
        Fixture f;
        Request post = Fixture::bare("POST", "/");
        post.headers.add("Content-Type", "application/json");
        CHECK(test::problemCodeOf(f.serve(post)) == "UNAUTHORIZED");
        CHECK(isConsolePath("/"));
        CHECK(isConsolePath("/console/app.js"));
        CHECK_FALSE(isConsolePath("/console/"));
        CHECK_FALSE(isConsolePath("/v1/status"));
    }

    TEST_CASE("another site's page cannot read the console's files")
    {
        Fixture f;
        Request foreign = Fixture::bare("GET", "/console/app.js");
        foreign.headers.add("Origin", "https://evil.example");
        CHECK(test::problemCodeOf(f.serve(foreign)) == "ORIGIN_FORBIDDEN");
        const Response page = f.serve(Fixture::bare("GET", "/"));
        CHECK(page.headers.get("Cross-Origin-Resource-Policy") == "same-origin");
    }

    TEST_CASE("inkand's own origin alone has no standing: UNAUTHORIZED, whatever the browser-looking headers say")
    {
        Fixture f;
        // The three requests of a local process that pretends to be the console.
        Request cards = Fixture::bare("GET", "/v1/cards");
        cards.headers.add("Origin", kOwnOrigin);
        Request access = Fixture::bare("GET", "/v1/access");
        access.headers.add("Sec-Fetch-Site", "same-origin");
        Request sign = Fixture::fromConsole("POST", "/v1/cards/X/sign", std::nullopt);
        sign.body = R"({"digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digestAlgorithm":"SHA-256","pin":"1234"})";
        for (const Request* request : {&cards, &access, &sign}) {
            CAPTURE(request->target);
            const Response response = f.serve(*request);
            CHECK(response.status == 401);
            CHECK(test::problemCodeOf(response) == "UNAUTHORIZED");
        }
        for (const char* origin : {"https://127.0.0.1:24713", "https://localhost:24713", "https://[::1]:24713"}) {
            CAPTURE(origin);
            CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", std::nullopt, origin))) ==
                  "UNAUTHORIZED");
            Request read = Fixture::bare("GET", "/v1/status");
            read.headers.add("Origin", origin);
            CHECK(test::problemCodeOf(f.serve(read)) == "UNAUTHORIZED");
        }
        // Not even a login code: those are for the local client.
        Request login = Fixture::fromConsole("POST", "/v1/console/login", std::nullopt);
        login.body = "{}";
        CHECK(test::problemCodeOf(f.serve(login)) == "UNAUTHORIZED");
        // Preflights of the own origin are not a way around it either.
        Request preflight = Fixture::bare("OPTIONS", "/v1/cards");
        preflight.headers.add("Origin", kOwnOrigin);
        CHECK(test::problemCodeOf(f.serve(preflight)) == "UNAUTHORIZED");
    }

    TEST_CASE("the console's files stay public, with or without its Origin or a stale cookie")
    {
        Fixture f;
        for (const char* target : {"/", "/console/app.js"}) {
            CAPTURE(target);
            Request withOrigin = Fixture::bare("GET", target);
            withOrigin.headers.add("Origin", kOwnOrigin);
            CHECK(f.serve(withOrigin).status == 200);
            CHECK(f.serve(Fixture::fromConsole("GET", target, std::string(kCookieName) + "=0123")).status == 200);
        }
    }

    TEST_CASE("a login code from the local client buys the console a session cookie: __Host-, Secure, HttpOnly, SameSite=Strict")
    {
        Fixture f;
        const Response login = f.serve(Fixture::local("POST", "/v1/console/login"));
        REQUIRE(login.status == 200);
        const auto body = nlohmann::json::parse(login.body);
        const std::string code = body.at("code").get<std::string>();
        CHECK(code.size() == 32);
        CHECK(body.at("url") == "https://127.0.0.1:24713/#login=" + code);
        CHECK(body.at("expiresIn") == 60);
        CHECK(login.headers.get("Cache-Control") == "no-store");

        const Response traded = f.trade(code);
        REQUIRE(traded.status == 204);
        const std::string cookie(traded.headers.get("Set-Cookie").value_or(""));
        CHECK(cookie.starts_with(std::string(kCookieName) + "="));
        const std::string value = cookie.substr(kCookieName.size() + 1, cookie.find(';') - kCookieName.size() - 1);
        CHECK(value.size() == 32);
        CHECK(value != code);
        CHECK(cookie.substr(cookie.find(';')) == "; Secure; HttpOnly; SameSite=Strict; Path=/");
        CHECK(cookie.find("Domain") == std::string::npos);

        // The session is the console: reads without Origin, actions with it.
        const std::string sent = std::string(kCookieName) + "=" + value;
        const Response status = f.serve(Fixture::fromConsole("GET", "/v1/status", sent));
        CHECK(status.status == 200);
        CHECK_FALSE(status.headers.get("Access-Control-Allow-Origin").has_value());  // same origin: no CORS
        CHECK(status.headers.get("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'");
        const auto access = nlohmann::json::parse(f.serve(Fixture::fromConsole("GET", "/v1/access", sent)).body);
        CHECK(access.at("standing") == "console");
        CHECK(access.at("origin") == kOwnOrigin);
        for (const char* origin : {"https://127.0.0.1:24713", "https://localhost:24713", "https://[::1]:24713"}) {
            CAPTURE(origin);
            const Response response = f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", "a=b; " + sent, origin));
            CHECK(test::problemCodeOf(response) == "CARD_NOT_FOUND");  // admitted: the card service answered
        }
    }

    TEST_CASE("a login code works once")
    {
        Fixture f;
        const std::string code = f.loginCode();
        CHECK(f.trade(code).status == 204);
        const Response again = f.trade(code);
        CHECK(again.status == 401);
        CHECK(test::problemCodeOf(again) == "UNAUTHORIZED");
        CHECK_FALSE(again.headers.get("Set-Cookie").has_value());
        CHECK(test::problemCodeOf(f.trade(std::string(32, '0'))) == "UNAUTHORIZED");
        Request noCode = Fixture::fromConsole("POST", "/v1/console/session", std::nullopt);
        noCode.body = "{}";
        CHECK(test::problemCodeOf(f.serve(noCode)) == "BAD_REQUEST");
    }

    TEST_CASE("a login code expires after 60 seconds")
    {
        Fixture f;
        const std::string code = f.loginCode();
        f.now += std::chrono::seconds(60);
        CHECK(test::problemCodeOf(f.trade(code)) == "UNAUTHORIZED");
    }

    TEST_CASE("login codes are only for the local client; the trade only for the console page")
    {
        Fixture f;
        Request portal = Fixture::bare("POST", "/v1/console/login");
        portal.headers.add("Origin", "https://portal.example");
        portal.headers.add("Content-Type", "application/json");
        portal.headers.add("Inkan-Client", "portal");
        portal.body = "{}";
        CHECK(test::problemCodeOf(f.serve(portal)) == "ORIGIN_FORBIDDEN");
        CHECK(test::problemCodeOf(f.serve(Fixture::bare("POST", "/v1/console/login"))) == "UNAUTHORIZED");

        Request localTrade = Fixture::local("POST", "/v1/console/session");
        localTrade.body = nlohmann::json{{"code", f.loginCode()}}.dump();
        CHECK(test::problemCodeOf(f.serve(localTrade)) == "ORIGIN_FORBIDDEN");
        Request portalTrade = Fixture::fromConsole("POST", "/v1/console/session", std::nullopt, "https://portal.example");
        portalTrade.body = nlohmann::json{{"code", f.loginCode()}}.dump();
        CHECK(test::problemCodeOf(f.serve(portalTrade)) == "ORIGIN_FORBIDDEN");
    }

    TEST_CASE("a wrong, repeated, idle or ended session cookie is UNAUTHORIZED")
    {
        Fixture f;
        const std::string cookie = f.login();
        REQUIRE(f.serve(Fixture::fromConsole("GET", "/v1/status", cookie)).status == 200);

        std::string wrong = cookie;
        wrong.back() = wrong.back() == '0' ? '1' : '0';
        for (const std::string& sent : {wrong, std::string(kCookieName) + "=", cookie + "; " + cookie,
                                        "__Host-inkan-console-24714" + cookie.substr(kCookieName.size())}) {
            CAPTURE(sent);
            CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("GET", "/v1/status", sent))) == "UNAUTHORIZED");
            CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", sent))) == "UNAUTHORIZED");
        }
        // A session cookie without Origin does not act.
        Request noOrigin = Fixture::bare("POST", "/v1/cards/X/pin/change");
        noOrigin.headers.add("Cookie", cookie);
        noOrigin.headers.add("Content-Type", "application/json");
        noOrigin.headers.add("Inkan-Client", "x");
        CHECK(test::problemCodeOf(f.serve(noOrigin)) == "UNAUTHORIZED");
        // The token still works beside a stale cookie.
        Request local = Fixture::local("GET", "/v1/status");
        local.headers.add("Cookie", wrong);
        CHECK(f.serve(local).status == 200);

        // Idle for 30 minutes: over.
        f.now += std::chrono::minutes(29);
        CHECK(f.serve(Fixture::fromConsole("GET", "/v1/status", cookie)).status == 200);
        f.now += std::chrono::minutes(30);
        CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("GET", "/v1/status", cookie))) == "UNAUTHORIZED");

        // Logged out: over, and the browser is told to drop the cookie.
        const std::string other = f.login();
        Request logout = Fixture::fromConsole("DELETE", "/v1/console/session", other);
        logout.body = "{}";
        const Response ended = f.serve(logout);
        CHECK(ended.status == 204);
        CHECK(ended.headers.get("Set-Cookie") ==
              std::string(kCookieName) + "=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
        CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("GET", "/v1/status", other))) == "UNAUTHORIZED");
    }

    TEST_CASE("a new login in the same browser replaces its session")
    {
        Fixture f;
        const std::string first = f.login();
        const Response second = f.trade(f.loginCode(), first);
        REQUIRE(second.status == 204);
        CHECK(test::problemCodeOf(f.serve(Fixture::fromConsole("GET", "/v1/status", first))) == "UNAUTHORIZED");
        const std::string setCookie(second.headers.get("Set-Cookie").value_or(""));
        CHECK(f.serve(Fixture::fromConsole("GET", "/v1/status", setCookie.substr(0, setCookie.find(';')))).status == 200);
    }

    TEST_CASE("Sec-Fetch-Site never grants anything")
    {
        Fixture f;
        for (const char* site : {"same-origin", "same-site", "cross-site", "none"}) {
            CAPTURE(site);
            Request read = Fixture::bare("GET", "/v1/status");
            read.headers.add("Sec-Fetch-Site", site);
            CHECK(test::problemCodeOf(f.serve(read)) == "UNAUTHORIZED");
        }
    }

    TEST_CASE("the console is told apart by session in the principal")
    {
        Caller caller{Caller::Kind::OwnOrigin, std::string(kOwnOrigin), "abc"};
        const security::Principal principal = principalOf(caller);
        CHECK(principal.kind == security::Principal::Kind::Console);
        CHECK(principal.origin == kOwnOrigin);
        CHECK(principal.session == "abc");
    }

    TEST_CASE("look-alikes of the own origin are ORIGIN_FORBIDDEN, session or not")
    {
        Fixture f;
        const std::string cookie = f.login();
        for (const char* origin : {"http://127.0.0.1:24713", "https://127.0.0.1:24714", "https://127.0.0.1",
                                   "https://127.0.0.2:24713", "https://localhost.:24713", "https://LOCALHOST:24713",
                                   "https://127.0.0.1:24713/", "null"}) {
            CAPTURE(origin);
            for (const std::optional<std::string>& sent : {std::optional<std::string>(), std::optional<std::string>(cookie)}) {
                const Response response = f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", sent, origin));
                CHECK(response.status == 403);
                CHECK(test::problemCodeOf(response) == "ORIGIN_FORBIDDEN");
            }
        }
    }
}
