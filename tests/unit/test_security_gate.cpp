// The gate with pairing: what an origin that is neither allowlisted nor
// paired may reach, how a pairing opens the gate and a revocation closes it,
// and the Inkan-Client rule for every caller.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/gate.hpp"
#include "api/problem.hpp"
#include "daemon/error.hpp"
#include "daemon/security/pairing_store.hpp"

using namespace inkan;
using namespace inkan::api;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::string_view kPortal = "https://portal.example.jp";
constexpr std::string_view kStranger = "https://stranger.example";

struct GateWithPairings {
    std::shared_ptr<security::PairingStore> pairings = std::make_shared<security::PairingStore>(security::PairingStoreOptions{});
    Gate gate;

    explicit GateWithPairings(bool insecureLocalhost = false) : gate(options(pairings, insecureLocalhost)) {}

    static GateOptions options(std::shared_ptr<security::PairingStore> pairings, bool insecureLocalhost)
    {
        GateOptions options;
        options.port = kPort;
        options.allowedOrigins = {std::string(kPortal)};
        options.token = Secret(kToken);
        options.pairings = std::move(pairings);
        options.allowInsecureLocalhostOrigins = insecureLocalhost;
        return options;
    }

    void pair(const std::string& origin)
    {
        const security::Pairing pairing = pairings->request(origin);
        pairings->approve(pairing.id, pairing.code, security::defaultOriginOperations(), std::nullopt);
    }
};

Request pageRequest(std::string_view origin, std::string method, std::string target)
{
    Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.headers.add("Host", "127.0.0.1:" + std::to_string(kPort));
    request.headers.add("Origin", origin);
    if (request.method == "POST" || request.method == "DELETE") {
        request.headers.add("Content-Type", "application/json");
        request.headers.add("Inkan-Client", "@inkan/client 0.1.0");
    }
    if (request.method == "OPTIONS") request.headers.add("Access-Control-Request-Method", "POST");
    return request;
}

struct Outcome {
    std::optional<Caller::Kind> kind;
    std::optional<ErrorCode> refusal;
};

Outcome admit(const Gate& gate, const Request& request)
{
    try {
        return Outcome{gate.admit(request).caller.kind, std::nullopt};
    } catch (const Error& e) {
        return Outcome{std::nullopt, e.code()};
    }
}

}  // namespace

TEST_SUITE("security gate: pairing candidates")
{
    TEST_CASE("an unknown https origin may ask for pairing, poll it and ask what it may do, nothing else")
    {
        const GateWithPairings g;
        for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
                 {"POST", "/v1/pairings"}, {"OPTIONS", "/v1/pairings"}, {"GET", "/v1/pairings/0123abcd"},
                 {"OPTIONS", "/v1/pairings/0123abcd"}, {"GET", "/v1/access"}, {"OPTIONS", "/v1/access"}}) {
            CAPTURE(method);
            CAPTURE(target);
            CHECK(admit(g.gate, pageRequest(kStranger, method, target)).kind == Caller::Kind::PairingCandidate);
            CHECK(g.gate.corsOrigin(pageRequest(kStranger, method, target)) == std::optional<std::string>(kStranger));
        }
        for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
                 {"GET", "/v1/pairings"}, {"POST", "/v1/pairings/0123abcd/approve"}, {"POST", "/v1/pairings/0123abcd/deny"},
                 {"DELETE", "/v1/pairings/https%3A%2F%2Fstranger.example"}, {"GET", "/v1/status"}, {"GET", "/v1/cards"},
                 {"OPTIONS", "/v1/cards/x/sign"}, {"POST", "/v1/cards/x/sign"}, {"GET", "/v1/pairings/a/b"},
                 {"POST", "/v1/access"}, {"GET", "/v1/pairings/"}}) {
            CAPTURE(method);
            CAPTURE(target);
            CHECK(admit(g.gate, pageRequest(kStranger, method, target)).refusal == ErrorCode::OriginForbidden);
            CHECK_FALSE(g.gate.corsOrigin(pageRequest(kStranger, method, target)).has_value());
        }
    }

    TEST_CASE("only origins that could ever be paired may ask")
    {
        const GateWithPairings g;
        for (const char* origin : {"null", "http://stranger.example", "https://Stranger.example", "https://stranger.example.",
                                   "https://stranger.example:443", "https://stranger.example/", "file://", "http://localhost:3000"}) {
            CAPTURE(origin);
            CHECK(admit(g.gate, pageRequest(origin, "POST", "/v1/pairings")).refusal == ErrorCode::OriginForbidden);
        }
        const GateWithPairings development(true);
        CHECK(admit(development.gate, pageRequest("http://localhost:3000", "POST", "/v1/pairings")).kind ==
              Caller::Kind::PairingCandidate);
        CHECK(admit(development.gate, pageRequest("http://example.com:3000", "POST", "/v1/pairings")).refusal ==
              ErrorCode::OriginForbidden);
    }

    TEST_CASE("a paired origin is admitted like an allowlisted one until it is revoked")
    {
        GateWithPairings g;
        CHECK(admit(g.gate, pageRequest(kStranger, "POST", "/v1/cards/x/sign")).refusal == ErrorCode::OriginForbidden);
        g.pair(std::string(kStranger));
        CHECK(admit(g.gate, pageRequest(kStranger, "POST", "/v1/cards/x/sign")).kind == Caller::Kind::BrowserOrigin);
        CHECK(admit(g.gate, pageRequest(kStranger, "OPTIONS", "/v1/cards/x/sign")).kind == Caller::Kind::BrowserOrigin);
        CHECK(g.gate.corsOrigin(pageRequest(kStranger, "GET", "/v1/cards")) == std::optional<std::string>(kStranger));
        // Look-alikes of the paired origin stay out.
        CHECK(admit(g.gate, pageRequest("https://stranger.example.evil", "GET", "/v1/cards")).refusal == ErrorCode::OriginForbidden);
        CHECK(g.pairings->revoke(kStranger));
        CHECK(admit(g.gate, pageRequest(kStranger, "POST", "/v1/cards/x/sign")).refusal == ErrorCode::OriginForbidden);
        CHECK_FALSE(g.gate.corsOrigin(pageRequest(kStranger, "GET", "/v1/cards")).has_value());
    }

    TEST_CASE("a localhost pairing made in development mode does not outlive it")
    {
        auto pairings = std::make_shared<security::PairingStore>(security::PairingStoreOptions{});
        const security::Pairing pairing = pairings->request("http://localhost:3000");
        pairings->approve(pairing.id, pairing.code, security::defaultOriginOperations(), std::nullopt);
        const Gate production(GateWithPairings::options(pairings, false));
        CHECK(admit(production, pageRequest("http://localhost:3000", "GET", "/v1/cards")).refusal == ErrorCode::OriginForbidden);
        const Gate development(GateWithPairings::options(pairings, true));
        CHECK(admit(development, pageRequest("http://localhost:3000", "GET", "/v1/cards")).kind == Caller::Kind::BrowserOrigin);
    }

    TEST_CASE("preflights of pages carry the CORS answers; DELETE is never offered to a page")
    {
        const GateWithPairings g;
        const Request request = pageRequest(kStranger, "OPTIONS", "/v1/pairings");
        Response response = g.gate.preflight(g.gate.admit(request));
        CHECK(response.headers.get("Access-Control-Allow-Methods") == std::optional<std::string_view>("GET, POST, OPTIONS"));
        CHECK(response.headers.get("Access-Control-Allow-Private-Network") == std::optional<std::string_view>("true"));
    }

    TEST_CASE("a refused Host means no CORS answer either")
    {
        const GateWithPairings g;
        Request request = pageRequest(kPortal, "GET", "/v1/cards");
        request.headers.set("Host", "portal.example.jp:" + std::to_string(kPort));
        CHECK(admit(g.gate, request).refusal == ErrorCode::HostForbidden);
        CHECK_FALSE(g.gate.corsOrigin(request).has_value());
    }
}

TEST_SUITE("security gate: Inkan-Client")
{
    TEST_CASE("every request but GET and OPTIONS carries Inkan-Client, local clients included")
    {
        const GateWithPairings g;
        Request local;
        local.method = "POST";
        local.target = "/v1/cards/x/sign";
        local.headers.add("Host", "127.0.0.1:" + std::to_string(kPort));
        local.headers.add("Authorization", "Bearer " + std::string(kToken));
        local.headers.add("Content-Type", "application/json");
        CHECK(admit(g.gate, local).refusal == ErrorCode::BadRequest);
        local.headers.add("Inkan-Client", "inkan-cli/0.1.0");
        CHECK(admit(g.gate, local).kind == Caller::Kind::LocalClient);

        Request remove = pageRequest(kPortal, "DELETE", "/v1/pairings/x");
        CHECK(admit(g.gate, remove).kind == Caller::Kind::BrowserOrigin);  // refused later, by the handler
        remove.headers.set("Inkan-Client", "");
        CHECK(admit(g.gate, remove).refusal == ErrorCode::BadRequest);

        Request read = pageRequest(kPortal, "GET", "/v1/cards");
        CHECK(admit(g.gate, read).kind == Caller::Kind::BrowserOrigin);
    }
}

TEST_SUITE("security problems")
{
    TEST_CASE("every security code has its status, a title and its problem type")
    {
        const std::vector<std::pair<ErrorCode, int>> expected = {
            {ErrorCode::OperationForbidden, 403}, {ErrorCode::CardBlockedByPolicy, 403}, {ErrorCode::PinRateLimited, 429},
            {ErrorCode::PinCancelled, 409},       {ErrorCode::PinEntryTimeout, 409},     {ErrorCode::PinEntryUnavailable, 503},
            {ErrorCode::PinSourceMismatch, 400},  {ErrorCode::PinpadUnavailable, 503},   {ErrorCode::PairingRateLimited, 429},
            {ErrorCode::PairingCodeIncorrect, 403}, {ErrorCode::PairingNotPending, 409}, {ErrorCode::AlreadyPaired, 409},
        };
        for (const auto& [code, status] : expected) {
            CAPTURE(errorCodeName(code));
            CHECK(httpStatus(code) == status);
            CHECK(problemTitle(code) != "Internal error");
            CHECK(problemType(code).find("urn:inkan:problem:") == 0);
        }
        CHECK(errorCodeName(ErrorCode::PinpadUnavailable) == "PINPAD_UNAVAILABLE");
        CHECK(problemType(ErrorCode::CardBlockedByPolicy) == "urn:inkan:problem:card-blocked-by-policy");
    }

    TEST_CASE("a rate-limited answer says when to come back, in the header and the body")
    {
        const Response response = problemResponse(Error(ErrorCode::PinRateLimited, "too many").withRetryAfter(42));
        CHECK(response.status == 429);
        CHECK(response.headers.get("Retry-After") == std::optional<std::string_view>("42"));
        CHECK(response.body.find("\"retryAfterSeconds\":42") != std::string::npos);
        CHECK(problemResponse(Error(ErrorCode::PinGuard, "few")).headers.count("Retry-After") == 0);
    }
}
