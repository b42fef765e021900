// The API as a function of a request: router, handlers, JSON mapping and
// base64, with a fake card agent standing in for the card service.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/unit/api_serve.hpp"
#include "api/api.hpp"
#include "daemon/base64.hpp"
#include "api/json_mapping.hpp"
#include "api/router.hpp"
#include "daemon/error.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace inkan::api;
using nlohmann::json;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr std::string_view kCardId = "c0ffee0000000001";

Bytes bytes(std::initializer_list<int> values)
{
    Bytes out;
    for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

/// Stands in for the card service: answers from its fields, records what it
/// was asked, completes synchronously (or on another thread when asked to).
class FakeCardAgent final : public CardAgent {
public:
    AgentStatus statusValue;
    std::vector<CardSummary> cardList;
    PinStatus pin{10, 10, false};
    PinStatus unblockCode{10, 10, false};
    SignResult signResult;
    std::exception_ptr failure;  // every operation fails with this when set
    bool completeOnOtherThread = false;
    bool completeTwice = false;

    std::vector<std::string> calls;
    std::string lastCardId;
    std::string lastCertId;
    std::string lastPin, lastNewPin, lastUnblockCode;
    std::optional<SignRequest> lastSign;

    void status(Completion<AgentStatus> done) override { complete("status", std::move(done), statusValue); }
    void cards(Completion<std::vector<CardSummary>> done) override { complete("cards", std::move(done), cardList); }
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        lastCardId = cardId;
        if (!failure && cardId != kCardId) {
            done(std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no card with that id")));
            calls.push_back("card");
            return;
        }
        complete("card", std::move(done), cardList.at(0));
    }
    void certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done) override
    {
        lastCardId = cardId;
        lastCertId = certId;
        complete("certificate", std::move(done), cardList.at(0).certificates.at(0));
    }
    void pinStatus(const std::string& cardId, const std::string&, Completion<PinStatus> done) override
    {
        lastCardId = cardId;
        complete("pinStatus", std::move(done), pin);
    }
    void unblockCodeStatus(const std::string& cardId, const std::string&, Completion<PinStatus> done) override
    {
        lastCardId = cardId;
        complete("unblockCodeStatus", std::move(done), unblockCode);
    }
    void verifyPin(const std::string& cardId, const std::string&, PinInput value, PinCheck, Completion<PinStatus> done) override
    {
        lastCardId = cardId;
        lastPin = std::string(value.value().view());
        complete("verifyPin", std::move(done), pin);
    }
    void changePin(const std::string& cardId, const std::string&, PinInput value, PinInput newValue, PinCheck, Completion<PinStatus> done) override
    {
        lastCardId = cardId;
        lastPin = std::string(value.value().view());
        lastNewPin = std::string(newValue.value().view());
        complete("changePin", std::move(done), pin);
    }
    void unblockPin(const std::string& cardId, const std::string&, PinInput code, PinInput newValue, PinCheck,
                    Completion<PinStatus> done) override
    {
        lastCardId = cardId;
        lastUnblockCode = std::string(code.value().view());
        lastNewPin = std::string(newValue.value().view());
        complete("unblockPin", std::move(done), pin);
    }
    void sign(const std::string& cardId, SignRequest request, PinCheck, Completion<SignResult> done) override
    {
        lastCardId = cardId;
        lastSign = std::move(request);
        complete("sign", std::move(done), signResult);
    }
    void endPinVerification(const std::string& cardId, Completion<std::monostate> done) override
    {
        lastCardId = cardId;
        complete("endPinVerification", std::move(done), std::monostate{});
    }
    void shutdown() override {}

private:
    template <class T>
    void complete(const char* name, Completion<T> done, T value)
    {
        calls.push_back(name);
        Outcome<T> outcome = failure ? Outcome<T>(failure) : Outcome<T>(std::move(value));
        if (completeOnOtherThread) {
            std::thread([done = std::move(done), outcome = std::move(outcome)]() mutable { done(std::move(outcome)); }).join();
            return;
        }
        if (completeTwice) done(outcome);
        done(std::move(outcome));
    }
};

CertificateSummary signingCertificate()
{
    CertificateSummary certificate;
    certificate.id = "sign";
    certificate.subject = "CN=代表取締役 印鑑 太郎,O=株式会社いんかん商事,C=JP";
    certificate.issuer = "CN=inkan Demo Registrar CA,C=JP";
    certificate.serialNumber = "0A1B";
    certificate.notBefore = "2026-01-01T00:00:00Z";
    certificate.notAfter = "2028-01-01T00:00:00Z";
    certificate.der = bytes({0x30, 0x03, 0x02, 0x01, 0x01});
    return certificate;
}

struct Fixture {
    FakeCardAgent agent;
    std::unique_ptr<Api> api;

    Fixture()
    {
        CardSummary card = testing::referenceCardSummary(std::string(kCardId), PinStatus{9, 10, false});
        card.reader = "Virtual PCD 00 00";
        card.label = "代表取締役 印鑑 太郎";
                card.certificates.push_back(testing::withReferenceKey(signingCertificate()));
        agent.cardList.push_back(card);

        ReaderSummary withCard{"Virtual PCD 00 00", true, std::string(kCardId), "3B888001494E4B414E5643316E"};
        ReaderSummary empty{"Virtual PCD 00 01", false, std::nullopt, std::nullopt};
        agent.statusValue = AgentStatus{true, {withCard, empty}};

        agent.signResult.signature = bytes({0xDE, 0xAD, 0xBE, 0xEF});
        agent.signResult.signatureAlgorithm = "RSASSA-PKCS1-v1_5-SHA-256";
        agent.signResult.certificateId = "sign";
        agent.signResult.certificate = signingCertificate().der;

        GateOptions gate;
        gate.port = kPort;
        gate.token = Secret(kToken);
        gate.allowedOrigins = {"https://portal.example"};
        api = std::make_unique<Api>(agent, std::move(gate), "9.9.9");
    }

    /// Serve one request as a local client (Host and token set), body as JSON.
    Response call(std::string method, std::string target, std::optional<std::string> body = std::nullopt)
    {
        Request request;
        request.method = std::move(method);
        request.target = std::move(target);
        request.headers.add("Host", "127.0.0.1:" + std::to_string(kPort));
        request.headers.add("Authorization", "Bearer " + std::string(kToken));
        if (body) {
            request.headers.add("Content-Type", "application/json");
            request.headers.add("Inkan-Client", "inkan-tests");
            request.body = *body;
        }
        return serve(request);
    }

    Response serve(const Request& request) { return test::serveOnce(*api, request); }
};

json bodyOf(const Response& response) { return json::parse(response.body); }

std::string problemCode(const Response& response)
{
    CHECK(response.contentType == "application/problem+json");
    return bodyOf(response).at("code").get<std::string>();
}

std::string detailOf(const Response& response) { return bodyOf(response).at("detail").get<std::string>(); }

std::string b64(const Bytes& data) { return base64Encode(data); }

std::string signBody(const std::string& digest, const std::string& algorithm, std::optional<std::string> pin = "1234")
{
    json body{{"digest", digest}, {"digestAlgorithm", algorithm}};
    if (pin) body["pin"] = *pin;
    return body.dump();
}

}  // namespace

TEST_SUITE("api routes")
{
    TEST_CASE("GET /v1/status lists readers, with card id and ATR only where a card is present")
    {
        Fixture f;
        const Response r = f.call("GET", "/v1/status");
        CHECK(r.status == 200);
        CHECK(r.contentType == "application/json");
        const json body = bodyOf(r);
        CHECK(body["version"] == "9.9.9");
        CHECK(body["pcscAvailable"] == true);
        REQUIRE(body["readers"].size() == 2);
        CHECK(body["readers"][0] == json{{"name", "Virtual PCD 00 00"}, {"cardPresent", true}, {"pinpad", false},
                                         {"cardId", kCardId}, {"atr", "3B888001494E4B414E5643316E"}});
        CHECK(body["readers"][1] == json{{"name", "Virtual PCD 00 01"}, {"cardPresent", false}, {"pinpad", false}});
    }

    TEST_CASE("GET /v1/cards describes each card with PIN status and certificates without DER")
    {
        Fixture f;
        const json body = bodyOf(f.call("GET", "/v1/cards"));
        REQUIRE(body["cards"].size() == 1);
        const json& card = body["cards"][0];
        CHECK(card["id"] == kCardId);
        CHECK(card["reader"] == "Virtual PCD 00 00");
        CHECK(card["profile"] == "inkan-reference");
        CHECK(card["label"] == "代表取締役 印鑑 太郎");
        CHECK(card["pin"] == json{{"triesLeft", 9}, {"maxTries", 10}, {"blocked", false}});
        REQUIRE(card["certificates"].size() == 1);
        CHECK(card["certificates"][0] == json{{"id", "sign"},
                                              {"readable", true},
                                              {"keyPin", "user"},
                                              {"subject", "CN=代表取締役 印鑑 太郎,O=株式会社いんかん商事,C=JP"},
                                              {"issuer", "CN=inkan Demo Registrar CA,C=JP"},
                                              {"serialNumber", "0A1B"},
                                              {"notBefore", "2026-01-01T00:00:00Z"},
                                              {"notAfter", "2028-01-01T00:00:00Z"}});
    }

    TEST_CASE("GET /v1/cards with no card answers an empty list")
    {
        Fixture f;
        f.agent.cardList.clear();
        CHECK(bodyOf(f.call("GET", "/v1/cards")) == json{{"cards", json::array()}});
    }

    TEST_CASE("GET /v1/cards/{cardId} answers one card; an unknown id is CARD_NOT_FOUND")
    {
        Fixture f;
        const Response one = f.call("GET", "/v1/cards/" + std::string(kCardId));
        CHECK(one.status == 200);
        CHECK(bodyOf(one)["id"] == kCardId);

        const Response missing = f.call("GET", "/v1/cards/0000000000000000");
        CHECK(missing.status == 404);
        CHECK(problemCode(missing) == "CARD_NOT_FOUND");
    }

    TEST_CASE("GET a certificate answers its fields and the DER in standard base64")
    {
        Fixture f;
        const Response r = f.call("GET", "/v1/cards/" + std::string(kCardId) + "/certificates/sign");
        CHECK(r.status == 200);
        const json body = bodyOf(r);
        CHECK(body["id"] == "sign");
        CHECK(body["der"] == "MAMCAQE=");
        CHECK(body.contains("issuer"));
        CHECK(f.agent.lastCertId == "sign");
    }

    TEST_CASE("GET the PIN status answers triesLeft, maxTries, blocked")
    {
        Fixture f;
        f.agent.pin = PinStatus{0, 10, true};
        const Response r = f.call("GET", "/v1/cards/" + std::string(kCardId) + "/pin");
        CHECK(bodyOf(r) == json{{"triesLeft", 0}, {"maxTries", 10}, {"blocked", true}});
        CHECK(f.agent.lastCardId == kCardId);
    }

    TEST_CASE("GET the unblock code's status answers its own counter")
    {
        Fixture f;
        f.agent.unblockCode = PinStatus{3, 10, false};
        const Response r = f.call("GET", "/v1/cards/" + std::string(kCardId) + "/unblock-code");
        CHECK(bodyOf(r) == json{{"triesLeft", 3}, {"maxTries", 10}, {"blocked", false}});
        CHECK(f.agent.calls.back() == "unblockCodeStatus");
    }

    TEST_CASE("PIN verify, change and unblock hand the values to the agent and answer the PIN status")
    {
        Fixture f;
        const std::string base = "/v1/cards/" + std::string(kCardId) + "/pin/";

        Response r = f.call("POST", base + "verify", R"({"pin":"1234"})");
        CHECK(r.status == 200);
        CHECK(bodyOf(r) == json{{"triesLeft", 10}, {"maxTries", 10}, {"blocked", false}});
        CHECK(f.agent.lastPin == "1234");

        r = f.call("POST", base + "change", R"({"pin":"1234","newPin":"24680"})");
        CHECK(r.status == 200);
        CHECK(f.agent.lastPin == "1234");
        CHECK(f.agent.lastNewPin == "24680");

        r = f.call("POST", base + "unblock", R"({"unblockCode":"12345678","newPin":"1357"})");
        CHECK(r.status == 200);
        CHECK(f.agent.lastUnblockCode == "12345678");
        CHECK(f.agent.lastNewPin == "1357");
    }

    TEST_CASE("an empty PIN is refused by the card profile's format rule before the PIN counter is read")
    {
        Fixture f;
        const Response r = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/verify", R"({"pin":""})");
        CHECK(problemCode(r) == "PIN_FORMAT");
        CHECK(f.agent.calls == std::vector<std::string>{"card"});
        CHECK(f.agent.lastPin.empty());
    }

    TEST_CASE("malformed PIN bodies are BAD_REQUEST naming the field, and never reach the agent")
    {
        Fixture f;
        const std::string verify = "/v1/cards/" + std::string(kCardId) + "/pin/verify";
        struct Case {
            std::string body;
            std::string detailPart;
        };
        const std::vector<Case> cases = {
            {R"({})", "field 'pin' is required"},
            {R"({"pin":1234})", "field 'pin' must be a string, not a number"},
            {R"({"pin":null})", "field 'pin' is required"},
            {R"({"pin":["1234"]})", "field 'pin' must be a string, not an array"},
            {R"({"pin":"1234","pin":"9999"})", "field 'pin' appears more than once"},
            {R"({not json)", "not valid JSON"},
            {R"(["1234"])", "must be a JSON object"},
            {R"("1234")", "must be a JSON object"},
            {R"({"pin":"1234"} trailing)", "not valid JSON"},
            {"", "not valid JSON"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.body);
            const Response r = f.call("POST", verify, c.body);
            CHECK(r.status == 400);
            CHECK(problemCode(r) == "BAD_REQUEST");
            CHECK(detailOf(r).find(c.detailPart) != std::string::npos);
        }
        CHECK(f.agent.calls.empty());

        const Response change = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/change", R"({"pin":"1234"})");
        CHECK(detailOf(change) == "field 'newPin' is required");
        const Response unblock = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/unblock", R"({"newPin":"1234"})");
        CHECK(detailOf(unblock) == "field 'unblockCode' is required");
        CHECK(f.agent.calls.empty());
    }

    TEST_CASE("a JSON parse error never quotes the body back (it may hold a PIN)")
    {
        Fixture f;
        const Response r = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/verify", R"({"pin":"98765)");
        CHECK(r.status == 400);
        CHECK(r.body.find("98765") == std::string::npos);
    }

    TEST_CASE("unknown fields, nested or not, are ignored")
    {
        Fixture f;
        const Response r = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/verify",
                                  R"({"note":{"pin":"0000","deep":[1,{"pin":"x"}]},"pin":"1234","extra":[true,null,1.5]})");
        CHECK(r.status == 200);
        CHECK(f.agent.lastPin == "1234");
    }

    TEST_CASE("sign passes digest, algorithm, certificate and PIN, and answers base64 signature and certificate")
    {
        Fixture f;
        const Bytes digest(48, 0xAB);
        json body{{"digest", b64(digest)}, {"digestAlgorithm", "SHA-384"}, {"certificate", "sign"}, {"pin", "1234"}};
        const Response r = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/sign", body.dump());
        CHECK(r.status == 200);
        CHECK(bodyOf(r) == json{{"signature", "3q2+7w=="},
                                {"signatureAlgorithm", "RSASSA-PKCS1-v1_5-SHA-256"},
                                {"certificateId", "sign"},
                                {"certificate", "MAMCAQE="}});
        REQUIRE(f.agent.lastSign.has_value());
        CHECK(f.agent.lastSign->digest == digest);
        CHECK(f.agent.lastSign->digestAlgorithm == DigestAlgorithm::Sha384);
        CHECK(f.agent.lastSign->certificateId == std::optional<std::string>("sign"));
        REQUIRE(f.agent.lastSign->pin.has_value());
        CHECK(f.agent.lastSign->pin->value().view() == "1234");
    }

    TEST_CASE("sign without PIN (right after the caller's verification) or certificate leaves both to the agent")
    {
        Fixture f;
        CHECK(f.call("POST", "/v1/cards/" + std::string(kCardId) + "/pin/verify", R"({"pin":"1234"})").status == 200);
        const Response r = f.call("POST", "/v1/cards/" + std::string(kCardId) + "/sign",
                                  R"({"digest":")" + b64(Bytes(32, 1)) + R"(","digestAlgorithm":"SHA-256","pin":null})");
        CHECK(r.status == 200);
        REQUIRE(f.agent.lastSign.has_value());
        CHECK_FALSE(f.agent.lastSign->pin.has_value());
        CHECK_FALSE(f.agent.lastSign->certificateId.has_value());
    }

    TEST_CASE("each digest algorithm demands its own digest length")
    {
        Fixture f;
        const std::string sign = "/v1/cards/" + std::string(kCardId) + "/sign";
        for (auto [algorithm, length] : {std::pair{"SHA-256", 32}, {"SHA-384", 48}, {"SHA-512", 64}}) {
            CAPTURE(algorithm);
            CHECK(f.call("POST", sign, signBody(b64(Bytes(length, 7)), algorithm)).status == 200);
            const Response shorter = f.call("POST", sign, signBody(b64(Bytes(length - 1, 7)), algorithm));
            CHECK(problemCode(shorter) == "BAD_REQUEST");
            CHECK(detailOf(shorter) == "field 'digest' must be " + std::to_string(length) + " bytes for " + algorithm +
                                           ", not " + std::to_string(length - 1));
        }
    }

    TEST_CASE("sign refuses bad input before the card")
    {
        Fixture f;
        const std::string sign = "/v1/cards/" + std::string(kCardId) + "/sign";
        const std::string good = b64(Bytes(32, 9));
        struct Case {
            std::string body;
            int status;
            std::string code;
            std::string detailPart;
        };
        const std::vector<Case> cases = {
            {signBody(good, "MD5"), 400, "UNSUPPORTED_ALGORITHM", "digestAlgorithm"},
            {signBody(good, "sha256"), 400, "UNSUPPORTED_ALGORITHM", "digestAlgorithm"},
            {signBody(good, "SHA-1"), 400, "UNSUPPORTED_ALGORITHM", "digestAlgorithm"},
            {signBody("not base64!!", "SHA-256"), 400, "BAD_REQUEST", "field 'digest' must be standard base64"},
            {signBody(good.substr(0, good.size() - 1), "SHA-256"), 400, "BAD_REQUEST", "field 'digest' must be standard base64"},
            {R"({"digestAlgorithm":"SHA-256"})", 400, "BAD_REQUEST", "field 'digest' is required"},
            {R"({"digest":")" + good + R"("})", 400, "BAD_REQUEST", "field 'digestAlgorithm' is required"},
            {R"({"digest":12,"digestAlgorithm":"SHA-256"})", 400, "BAD_REQUEST", "field 'digest' must be a string"},
            {R"({"digest":")" + good + R"(","digestAlgorithm":"SHA-256","pin":1234})", 400, "BAD_REQUEST", "field 'pin' must be a string"},
            {R"({"digest":")" + good + R"(","digestAlgorithm":"SHA-256","certificate":7})", 400, "BAD_REQUEST", "field 'certificate' must be a string"},
            {R"({"digest":")" + good + R"(","digestAlgorithm":"SHA-256","certificate":""})", 400, "BAD_REQUEST", "field 'certificate' must not be empty"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.body);
            const Response r = f.call("POST", sign, c.body);
            CHECK(r.status == c.status);
            CHECK(problemCode(r) == c.code);
            CHECK(detailOf(r).find(c.detailPart) != std::string::npos);
        }
        CHECK(f.agent.calls.empty());
    }

    TEST_CASE("card failures become problems with triesLeft and statusWord")
    {
        Fixture f;
        const std::string verify = "/v1/cards/" + std::string(kCardId) + "/pin/verify";
        f.agent.failure = std::make_exception_ptr(Error(ErrorCode::PinIncorrect, "wrong PIN").withTriesLeft(7));
        Response r = f.call("POST", verify, R"({"pin":"0000"})");
        CHECK(r.status == 403);
        CHECK(bodyOf(r)["triesLeft"] == 7);
        CHECK(bodyOf(r)["code"] == "PIN_INCORRECT");

        f.agent.failure = std::make_exception_ptr(Error(ErrorCode::CardError, "the card refused").withStatusWord(0x6A82));
        r = f.call("GET", "/v1/cards/" + std::string(kCardId) + "/pin");
        CHECK(r.status == 502);
        CHECK(bodyOf(r)["statusWord"] == "6A82");

        f.agent.failure = std::make_exception_ptr(std::runtime_error("segment 7 of the frobnicator"));
        r = f.call("GET", "/v1/status");
        CHECK(r.status == 500);
        CHECK(problemCode(r) == "INTERNAL");
        CHECK(r.body.find("frobnicator") == std::string::npos);
    }

    TEST_CASE("a completion from a card worker thread answers the request")
    {
        Fixture f;
        f.agent.completeOnOtherThread = true;
        CHECK(f.call("GET", "/v1/cards/" + std::string(kCardId) + "/pin").status == 200);
    }

    TEST_CASE("a second completion of one operation is dropped")
    {
        Fixture f;
        f.agent.completeTwice = true;
        f.call("GET", "/v1/status");  // Fixture::serve checks exactly one answer
    }

    TEST_CASE("unknown paths are NOT_FOUND without echoing the target")
    {
        Fixture f;
        // ("/" is the console page: test_api_console.cpp.)
        for (const char* target : {"/v1/nothing-here", "/v1/<script>alert(1)</script>", "/v1", "/v1/cards/", "/v1//cards",
                                   "/v1/status/", "/v2/status", "https://127.0.0.1:24713/v1/status", "*",
                                   "/v1/cards/a%2Fb/pin", "/v1/cards/a%00b/pin", "/v1/cards/%zz/pin", "/v1/cards/%4/pin"}) {
            CAPTURE(target);
            const Response r = f.call("GET", target);
            CHECK(r.status == 404);
            CHECK(problemCode(r) == "NOT_FOUND");
            CHECK(r.body.find("script") == std::string::npos);
        }
        CHECK(f.agent.calls.empty());
    }

    TEST_CASE("a known path with another method is METHOD_NOT_ALLOWED with Allow")
    {
        Fixture f;
        Response r = f.call("POST", "/v1/status", "{}");
        CHECK(r.status == 405);
        CHECK(problemCode(r) == "METHOD_NOT_ALLOWED");
        CHECK(r.headers.get("Allow") == std::optional<std::string_view>("GET, OPTIONS"));

        r = f.call("GET", "/v1/cards/" + std::string(kCardId) + "/sign");
        CHECK(r.status == 405);
        CHECK(r.headers.get("Allow") == std::optional<std::string_view>("POST, OPTIONS"));
        CHECK(f.agent.calls.empty());
    }

    TEST_CASE("path parameters are percent-decoded and the query is ignored")
    {
        Fixture f;
        f.call("GET", "/v1/cards/ab%20cd/pin?x=1");
        CHECK(f.agent.lastCardId == "ab cd");
        f.call("GET", "/v1/cards/" + std::string(kCardId) + "/certificates/si%67n");
        CHECK(f.agent.lastCertId == "sign");
    }

    TEST_CASE("every answer carries the security headers")
    {
        Fixture f;
        for (const Response& r : {f.call("GET", "/v1/status"), f.call("GET", "/v1/nope"), f.call("POST", "/v1/status", "{}")}) {
            CHECK(r.headers.get("Cache-Control") == std::optional<std::string_view>("no-store"));
            CHECK(r.headers.get("X-Content-Type-Options") == std::optional<std::string_view>("nosniff"));
            CHECK(r.headers.get("Content-Security-Policy") ==
                  std::optional<std::string_view>("default-src 'none'; frame-ancestors 'none'"));
        }
    }
}

TEST_SUITE("api router")
{
    TEST_CASE("a parameter matches exactly one non-empty segment")
    {
        Router router;
        int hits = 0;
        router.add("GET", "/v1/cards/{cardId}", [&](const RequestContext&, Respond) { ++hits; });
        CHECK(router.match("GET", "/v1/cards/abc").kind == Router::Match::Kind::Found);
        CHECK(router.match("GET", "/v1/cards/abc").params == PathParams{"abc"});
        CHECK(router.match("GET", "/v1/cards/abc/def").kind == Router::Match::Kind::NotFound);
        CHECK(router.match("GET", "/v1/cards").kind == Router::Match::Kind::NotFound);
        CHECK(router.match("GET", "/v1/cards/").kind == Router::Match::Kind::NotFound);
        CHECK(router.match("GET", "v1/cards/abc").kind == Router::Match::Kind::NotFound);
        CHECK(router.match("get", "/v1/cards/abc").kind == Router::Match::Kind::MethodNotAllowed);
    }

    TEST_CASE("percent-decoding refuses malformed escapes, control characters and slashes")
    {
        CHECK(decodePathSegment("a%41b") == std::optional<std::string>("aAb"));
        CHECK(decodePathSegment("%e5%8d%b0") == std::optional<std::string>("印"));
        CHECK_FALSE(decodePathSegment("%").has_value());
        CHECK_FALSE(decodePathSegment("%4").has_value());
        CHECK_FALSE(decodePathSegment("%g0").has_value());
        CHECK_FALSE(decodePathSegment("a%2fb").has_value());
        CHECK_FALSE(decodePathSegment("a%0Ab").has_value());
        CHECK_FALSE(decodePathSegment("a%7Fb").has_value());
        CHECK_FALSE(decodePathSegment(std::string(257, 'a')).has_value());
    }
}

TEST_SUITE("api base64")
{
    TEST_CASE("encoding follows the RFC 4648 test vectors")
    {
        const auto enc = [](std::string_view text) {
            return base64Encode(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
        };
        CHECK(enc("") == "");
        CHECK(enc("f") == "Zg==");
        CHECK(enc("fo") == "Zm8=");
        CHECK(enc("foo") == "Zm9v");
        CHECK(enc("foob") == "Zm9vYg==");
        CHECK(enc("fooba") == "Zm9vYmE=");
        CHECK(enc("foobar") == "Zm9vYmFy");
        CHECK(base64Encode(bytes({0xFB, 0xFF})) == "+/8=");
    }

    TEST_CASE("decoding round-trips every length")
    {
        Bytes data;
        for (int i = 0; i < 70; ++i) {
            CHECK(base64Decode(base64Encode(data)) == std::optional<Bytes>(data));
            data.push_back(static_cast<std::uint8_t>(i * 37 + 11));
        }
    }

    TEST_CASE("decoding is strict: padding, alphabet, no whitespace, canonical bits")
    {
        for (const char* bad : {"Zg", "Zg=", "Zm9", "Zg==Zg==", "Z===", "====", "Zm9v\n", " Zm9v", "Zm9v YmFy", "Zm-v",
                                "Zm_v", "Zh==", "Zm9=", "Zm=v"}) {
            CAPTURE(bad);
            CHECK_FALSE(base64Decode(bad).has_value());
        }
        CHECK(base64Decode("") == std::optional<Bytes>(Bytes{}));
        CHECK(base64Decode("+/8=") == std::optional<Bytes>(bytes({0xFB, 0xFF})));
    }
}
