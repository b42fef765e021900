// The console (api/console.*) and the gate's rules for inkand's own origin:
// the page and its files are public, the page's API calls are admitted as
// the own origin, nobody else gets anything for free.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/console.hpp"
#include "api/console_assets.hpp"
#include "daemon/error.hpp"
#include "tests/unit/api_serve.hpp"
#include "tests/unit/no_cards_agent.hpp"

using namespace inkan;
using namespace inkan::api;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000c0de0000";

struct Fixture {
    test::NoCards agent;
    std::unique_ptr<Api> api;

    Fixture()
    {
        GateOptions gate;
        gate.port = kPort;
        gate.token = Secret(kToken);
        gate.allowedOrigins = {"https://portal.example"};
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

    /// A fetch() of the console page: same-origin GETs carry Sec-Fetch-Site
    /// but no Origin; everything else carries Origin.
    static Request fromConsole(std::string method, std::string target, std::string_view origin = "https://127.0.0.1:24713")
    {
        Request request = bare(method, std::move(target));
        request.headers.add("Sec-Fetch-Site", "same-origin");
        if (method != "GET") {
            request.headers.add("Origin", origin);
            request.headers.add("Content-Type", "application/json");
            request.headers.add("Inkan-Client", "inkan-console");
            request.body = R"({"pin":"1234","newPin":"5678"})";
        }
        return request;
    }

    Response serve(const Request& request) { return test::serveOnce(*api, request); }
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
                                   "/console", "/index.html"}) {
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

    TEST_CASE("the console's reads (Sec-Fetch-Site: same-origin) need no token")
    {
        Fixture f;
        const Response response = f.serve(Fixture::fromConsole("GET", "/v1/status"));
        CHECK(response.status == 200);
        CHECK_FALSE(response.headers.get("Access-Control-Allow-Origin").has_value());  // same origin: no CORS
        CHECK(response.headers.get("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'");

        for (const char* site : {"same-site", "cross-site", "none", "Same-Origin"}) {
            CAPTURE(site);
            Request other = Fixture::bare("GET", "/v1/status");
            other.headers.add("Sec-Fetch-Site", site);
            CHECK(test::problemCodeOf(f.serve(other)) == "UNAUTHORIZED");
        }
        Request twice = Fixture::fromConsole("GET", "/v1/status");
        twice.headers.add("Sec-Fetch-Site", "same-origin");
        CHECK(test::problemCodeOf(f.serve(twice)) == "UNAUTHORIZED");
    }

    TEST_CASE("the console's own origin may act without a token, under the browser rules")
    {
        Fixture f;
        for (const char* origin : {"https://127.0.0.1:24713", "https://localhost:24713", "https://[::1]:24713"}) {
            CAPTURE(origin);
            const Response response = f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", origin));
            CHECK(test::problemCodeOf(response) == "CARD_NOT_FOUND");  // admitted: the card service answered
        }

        Request noClientHeader = Fixture::fromConsole("POST", "/v1/cards/X/pin/change");
        noClientHeader.headers.set("Inkan-Client", "");
        CHECK(test::problemCodeOf(f.serve(noClientHeader)) == "BAD_REQUEST");

        // Sec-Fetch-Site alone never admits a request that acts.
        Request withoutOrigin = Fixture::bare("POST", "/v1/cards/X/pin/change");
        withoutOrigin.headers.add("Sec-Fetch-Site", "same-origin");
        withoutOrigin.headers.add("Content-Type", "application/json");
        withoutOrigin.headers.add("Inkan-Client", "inkan-console");
        CHECK(test::problemCodeOf(f.serve(withoutOrigin)) == "UNAUTHORIZED");
    }

    TEST_CASE("look-alikes of the own origin are ORIGIN_FORBIDDEN")
    {
        Fixture f;
        for (const char* origin : {"http://127.0.0.1:24713", "https://127.0.0.1:24714", "https://127.0.0.1",
                                   "https://127.0.0.2:24713", "https://localhost.:24713", "https://LOCALHOST:24713",
                                   "https://127.0.0.1:24713/", "null"}) {
            CAPTURE(origin);
            const Response response = f.serve(Fixture::fromConsole("POST", "/v1/cards/X/pin/change", origin));
            CHECK(response.status == 403);
            CHECK(test::problemCodeOf(response) == "ORIGIN_FORBIDDEN");
        }
    }
}
