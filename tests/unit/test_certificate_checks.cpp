// Certificate checks as the daemon serves them: the verdict from chain and
// revocation evidence, RFC 3339 times, the `at` query parameter, the config
// keys, the JSON of certificates, the check pool, and the self-test with a
// scripted card.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/unit/temp_dir.hpp"
#include "api/handlers_cert.hpp"
#include "api/json_certificates.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/config.hpp"
#include "daemon/error.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/service/rfc3339.hpp"
#include "daemon/service/self_test.hpp"
#include "daemon/service/task_pool.hpp"
#include "tests/pki/test_pki.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace std::chrono;
using inkan::service::CheckResult;
using inkan::service::Verdict;
using inkan::testing::testPki;
namespace fs = std::filesystem;

namespace {

sys_seconds utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0)
{
    return sys_days(year_month_day{year(y), month(m), day(d)}) + hours(hh) + minutes(mm) + seconds(ss);
}

cert::ChainResult validChain()
{
    cert::ChainResult chain;
    chain.valid = true;
    chain.reason = cert::ChainFailure::None;
    return chain;
}

cert::RevocationResult evidence(cert::RevocationStatus status, std::optional<std::string> since = std::nullopt)
{
    cert::RevocationResult r;
    r.status = status;
    r.revocationTime = std::move(since);
    if (status != cert::RevocationStatus::Unknown) r.source = cert::RevocationMethod::Ocsp;
    return r;
}

/// Waits for one completion and hands its outcome back to the test thread.
template <class T>
struct Awaited {
    std::promise<Outcome<T>> promise;
    Completion<T> completion()
    {
        return [this](Outcome<T> outcome) { promise.set_value(std::move(outcome)); };
    }
    Outcome<T> get() { return promise.get_future().get(); }
};

ErrorCode codeOf(const std::exception_ptr& failure)
{
    try {
        std::rethrow_exception(failure);
    } catch (const Error& e) {
        return e.code();
    } catch (...) {
        return ErrorCode::Internal;
    }
}

/// An RSA signature over `digest` (SHA-256) with the PEM key at `keyFile`.
Bytes signWith(const fs::path& keyFile, const Bytes& digest)
{
    const auto pem = inkan::testing::readFile(keyFile);
    const ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    const ossl::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(key);
    const ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
    REQUIRE(EVP_PKEY_sign_init(ctx.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1);
    std::size_t length = 0;
    REQUIRE(EVP_PKEY_sign(ctx.get(), nullptr, &length, digest.data(), digest.size()) == 1);
    Bytes signature(length);
    REQUIRE(EVP_PKEY_sign(ctx.get(), signature.data(), &length, digest.data(), digest.size()) == 1);
    signature.resize(length);
    return signature;
}

/// A temporary directory removed at scope exit.
using inkan::test::TempDir;

config::Config loadConfig(const fs::path& file, const std::string& json)
{
    std::ofstream(file) << json;
    const std::string path = file.string();
    const char* argv[] = {"inkand", "--config", path.c_str()};
    auto loaded = config::load(3, argv, [](std::string_view) { return std::optional<std::string>(); });
    REQUIRE(std::holds_alternative<config::Config>(loaded));
    return std::get<config::Config>(std::move(loaded));
}

CardSummary pkiCard(const std::string& leaf)
{
    CardSummary card = testing::referenceCardSummary("c0ffee0000000001", {10, 10, false});
    card.reader = "Virtual PCD 00 00";
        CertificateSummary sign;
    sign.id = "sign";
    sign.der = testPki().leaf(leaf);
    CertificateSummary ca;
    ca.id = "ca";
    ca.der = testPki().pemAsDer("intermediate.pem");
    card.certificates = {ca, sign};  // order on purpose: the card's own certificate is found by content
    return card;
}

ReaderSummary readerWith(const std::string& name, std::optional<std::string> cardId)
{
    ReaderSummary reader;
    reader.name = name;
    reader.cardPresent = cardId.has_value();
    reader.cardId = std::move(cardId);
    if (reader.cardPresent) reader.atr = "3B00";
    return reader;
}

/// Scripted card steps for the self-test: answers from fields, records the sign request.
struct ScriptedCard {
    CardSummary card = pkiCard("good");
    std::exception_ptr cardFailure;
    PinStatus pin{10, 10, false};
    std::exception_ptr pinFailure;
    std::string signingKey = "good";  // private/<name>.key signs
    std::exception_ptr signFailure;
    int signCalls = 0;

    service::SelfTestCardSteps steps()
    {
        service::SelfTestCardSteps s;
        s.card = [this](Completion<CardSummary> done) {
            if (cardFailure) done(cardFailure);
            else done(card);
        };
        s.status = [this](Completion<AgentStatus> done) {
            AgentStatus status;
            status.pcscAvailable = true;
            status.readers.push_back(readerWith(card.reader, card.id));
            done(status);
        };
        s.pinStatus = [this](Completion<PinStatus> done) {
            if (pinFailure) done(pinFailure);
            else done(pin);
        };
        s.sign = [this](SignRequest request, Completion<SignResult> done) {
            ++signCalls;
            if (signFailure) {
                done(signFailure);
                return;
            }
            SignResult result;
            result.signature = signWith(testPki().dir / "private" / (signingKey + ".key"), request.digest);
            result.signatureAlgorithm = "RSASSA-PKCS1-v1_5-SHA-256";
            result.certificateId = "sign";
            result.certificate = testPki().leaf("good");
            done(result);
        };
        return s;
    }
};

service::CertificateCheckOptions offlineChecks(const fs::path& anchors)
{
    service::CertificateCheckOptions options;
    options.trustAnchorsDir = anchors;
    options.revocationEnabled = false;
    return options;
}

const service::SelfTestCheck& checkNamed(const service::SelfTestReport& report, const std::string& name)
{
    for (const auto& check : report.checks) {
        if (check.name == name) return check;
    }
    FAIL("no check named " << name);
    throw std::logic_error("unreachable");
}

service::SelfTestReport selfTest(ScriptedCard& card, service::CertificateChecker& checker, std::optional<Secret> pin)
{
    Awaited<service::SelfTestReport> awaited;
    service::runSelfTest(card.steps(), checker, card.card.id, std::move(pin), awaited.completion());
    auto outcome = awaited.get();
    REQUIRE(std::holds_alternative<service::SelfTestReport>(outcome));
    return std::get<service::SelfTestReport>(std::move(outcome));
}

}  // namespace

TEST_SUITE("certificate checks")
{
    TEST_CASE("RFC 3339: Z and offsets name the same instant; fractions are dropped")
    {
        CHECK(service::parseRfc3339("2026-04-01T00:00:00Z") == utc(2026, 4, 1));
        CHECK(service::parseRfc3339("2026-04-01T09:00:00+09:00") == utc(2026, 4, 1));
        CHECK(service::parseRfc3339("2026-03-31T20:30:00-03:30") == utc(2026, 4, 1));
        CHECK(service::parseRfc3339("2026-04-01t00:00:00.999z") == utc(2026, 4, 1));
        CHECK(service::parseRfc3339("2016-12-31T23:59:60Z") == utc(2017, 1, 1));
        CHECK(service::parseRfc3339("2028-02-29T12:00:00Z") == utc(2028, 2, 29, 12));
    }

    TEST_CASE("RFC 3339: anything else is refused, impossible dates and a missing offset too")
    {
        for (const char* text : {"", "2026-04-01", "2026-04-01T00:00:00", "2026-04-01 00:00:00Z", "2026-02-30T00:00:00Z",
                                 "2027-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-01T24:00:00Z",
                                 "2026-04-01T00:60:00Z", "2026-04-01T00:00:61Z", "2026-04-01T00:00:00+0900",
                                 "2026-04-01T00:00:00+24:00", "2026-04-01T00:00:00.Z", "2026-04-01T00:00:00Zjunk",
                                 "+2026-04-01T00:00:00Z", "2026-4-01T00:00:00Z", "２０２６-04-01T00:00:00Z"}) {
            INFO(text);
            CHECK_FALSE(service::parseRfc3339(text).has_value());
        }
    }

    TEST_CASE("verdict: an invalid chain is invalid whatever the revocation evidence")
    {
        cert::ChainResult chain;
        chain.reason = cert::ChainFailure::Expired;
        CHECK(service::verdictOf(chain, evidence(cert::RevocationStatus::Good), true, std::nullopt) == Verdict::Invalid);
        CHECK(service::verdictOf(chain, std::nullopt, false, std::nullopt) == Verdict::Invalid);
    }

    TEST_CASE("verdict: never valid without good evidence while revocation checking is on")
    {
        CHECK(service::verdictOf(validChain(), evidence(cert::RevocationStatus::Good), true, std::nullopt) == Verdict::Valid);
        CHECK(service::verdictOf(validChain(), evidence(cert::RevocationStatus::Unknown), true, std::nullopt) == Verdict::Unknown);
        CHECK(service::verdictOf(validChain(), std::nullopt, true, std::nullopt) == Verdict::Unknown);
        CHECK(service::verdictOf(validChain(), std::nullopt, false, std::nullopt) == Verdict::Valid);
    }

    TEST_CASE("verdict: revoked and suspended (certificateHold) as of now")
    {
        const auto revoked = evidence(cert::RevocationStatus::Revoked, "2026-01-10T00:00:00Z");
        const auto held = evidence(cert::RevocationStatus::Suspended, "2026-01-10T00:00:00Z");
        CHECK(service::verdictOf(validChain(), revoked, true, std::nullopt) == Verdict::Revoked);
        CHECK(service::verdictOf(validChain(), held, true, std::nullopt) == Verdict::Suspended);
    }

    TEST_CASE("verdict: asked about a time before the revocation took effect, the certificate was valid")
    {
        const auto revoked = evidence(cert::RevocationStatus::Revoked, "2026-01-10T00:00:00Z");
        CHECK(service::verdictOf(validChain(), revoked, true, utc(2026, 1, 9, 23, 59, 59)) == Verdict::Valid);
        CHECK(service::verdictOf(validChain(), revoked, true, utc(2026, 1, 10)) == Verdict::Revoked);
        const auto held = evidence(cert::RevocationStatus::Suspended, "2026-01-10T00:00:00Z");
        CHECK(service::verdictOf(validChain(), held, true, utc(2026, 1, 1)) == Verdict::Valid);
        // Without a revocation time nothing can be said about earlier times.
        CHECK(service::verdictOf(validChain(), evidence(cert::RevocationStatus::Revoked), true, utc(2020, 1, 1)) ==
              Verdict::Revoked);
    }

    TEST_CASE("the `at` query parameter: RFC 3339, percent-decoded, '+' literal, once")
    {
        api::Request request;
        request.target = "/v1/cards/x/certificates/sign/validation";
        CHECK_FALSE(api::validationTimeOf(request).has_value());
        request.target += "?at=2026-04-01T09%3A00%3A00%2B09%3A00";
        CHECK(api::validationTimeOf(request) == system_clock::time_point(utc(2026, 4, 1)));
        request.target = "/v?other=1&at=2026-04-01T09:00:00+09:00&x";
        CHECK(api::validationTimeOf(request) == system_clock::time_point(utc(2026, 4, 1)));
        for (const char* target : {"/v?at=", "/v?at", "/v?at=2026-04-01", "/v?at=2026-04-01T00:00:00Z&at=2026-04-01T00:00:00Z",
                                   "/v?at=%zz", "/v?at=2026-04-01T00:00:00%00Z"}) {
            INFO(target);
            request.target = target;
            try {
                (void)api::validationTimeOf(request);
                FAIL("accepted");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::BadRequest);
            }
        }
    }

    TEST_CASE("config: certificate keys with their defaults, the anchors directory relative to the file")
    {
        TempDir dir;
        const auto defaults = loadConfig(dir.path / "inkand.json", "{}");
        CHECK(defaults.certificateExpiryWarningDays == 30);
        CHECK(defaults.trustAnchorsDir == dir.path / "trust-anchors");
        CHECK(defaults.revocation.enabled);
        CHECK(defaults.revocation.order == std::vector<std::string>{"ocsp", "crl"});
        CHECK(defaults.revocation.timeoutSeconds == 10);
        CHECK_FALSE(defaults.revocation.ocspUrl.has_value());

        const auto set = loadConfig(dir.path / "inkand.json", R"({"certificateExpiryWarningDays": 60, "trustAnchorsDir": "anchors",
            "revocation": {"enabled": false, "order": ["crl"], "ocspUrl": "http://ocsp.example/", "crlUrl": null,
                           "timeoutSeconds": 3, "future": 1}})");
        CHECK(set.certificateExpiryWarningDays == 60);
        CHECK(set.trustAnchorsDir == dir.path / "anchors");
        CHECK_FALSE(set.revocation.enabled);
        CHECK(set.revocation.order == std::vector<std::string>{"crl"});
        CHECK(set.revocation.ocspUrl == std::optional<std::string>("http://ocsp.example/"));
        CHECK(set.revocation.timeoutSeconds == 3);
        CHECK(set.warnings.size() == 1);  // "future" is unknown
    }

    TEST_CASE("config: bad certificate keys are refused with the key named")
    {
        TempDir dir;
        for (const char* json :
             {R"({"certificateExpiryWarningDays": -1})", R"({"certificateExpiryWarningDays": "30"})",
              R"({"trustAnchorsDir": ""})", R"({"revocation": []})", R"({"revocation": {"order": []}})",
              R"({"revocation": {"order": ["ocsp", "ocsp"]}})", R"({"revocation": {"order": ["ldap"]}})",
              R"({"revocation": {"ocspUrl": "https://ocsp.example/"}})", R"({"revocation": {"crlUrl": "ldap://x/"}})",
              R"({"revocation": {"timeoutSeconds": 0}})", R"({"revocation": {"enabled": "yes"}})"}) {
            INFO(json);
            std::ofstream(dir.path / "bad.json") << json;
            const std::string path = (dir.path / "bad.json").string();
            const char* argv[] = {"inkand", "--config", path.c_str()};
            CHECK_THROWS_AS(config::load(3, argv, [](std::string_view) { return std::optional<std::string>(); }),
                            config::ConfigError);
        }
    }

    TEST_CASE("JSON: a registry leaf lists its company, days left and flags; its resource everything")
    {
        const CardSummary card = pkiCard("good");
        api::ExpiryPolicy policy;
        const auto listing = api::certificateListingJson(card.certificates[1], policy);
        CHECK(listing["registry"]["corporateName"] == "株式会社印鑑試験");
        CHECK(listing["registry"]["registeredNumber"] == "012345678901");
        CHECK(listing["expired"] == false);
        CHECK(listing["expiringSoon"] == false);
        CHECK(listing["daysLeft"].get<long long>() >= 363);
        CHECK_FALSE(api::certificateListingJson(card.certificates[0], policy).contains("registry"));

        policy.warningDays = 400;
        CHECK(api::certificateListingJson(card.certificates[1], policy)["expiringSoon"] == true);
        policy.clock = [] { return system_clock::now() + days(400); };
        const auto later = api::certificateListingJson(card.certificates[1], policy);
        CHECK(later["expired"] == true);
        CHECK(later["expiringSoon"] == false);

        const auto resource = api::certificateResourceJson(card.certificates[1], api::ExpiryPolicy{});
        CHECK(resource["registry"]["registrar"] == "東京法務局登記官（試験）");
        CHECK(resource["key"]["bits"] == 2048);
        CHECK(resource["subjectAttributes"][1]["type"] == "O");
        CHECK(resource["subjectAttributes"][1]["value"] == "株式会社印鑑試験");
        CHECK(resource.contains("der"));
    }

    TEST_CASE("JSON: a listing is prepared once per certificate, and anew when the service hands over another")
    {
        const CardSummary card = pkiCard("good");
        api::ExpiryPolicy policy;
        const auto cards = api::Json::parse(api::cardsJsonText({card}, policy));
        CHECK(cards["cards"][0]["id"] == card.id);
        CHECK(cards["cards"][0]["pin"]["triesLeft"] == card.defaultPin().status.triesLeft);
        CHECK(cards["cards"][0]["certificates"][1]["registry"]["corporateName"] == "株式会社印鑑試験");
        CHECK(cards["cards"][0] == api::cardJson(card, policy));
        // The same issuer and serial number under another id: not the first one's listing.
        CertificateSummary renamed = card.certificates[1];
        renamed.id = "other";
        CHECK(api::certificateListingJson(renamed, policy)["id"] == "other");
        // ... or with a DER that does not parse: nothing decoded is carried over.
        CertificateSummary broken = card.certificates[1];
        broken.der = {0x30, 0x03, 0x02, 0x01, 0x01};
        CHECK_FALSE(api::certificateListingJson(broken, policy).contains("registry"));
        CHECK(api::certificateListingJson(card.certificates[1], policy).contains("registry"));
        // The expiry fields move with the clock on a prepared listing.
        policy.clock = [] { return system_clock::now() + days(400); };
        CHECK(api::Json::parse(api::cardJsonText(card, policy))["certificates"][1]["expired"] == true);
    }

    TEST_CASE("JSON: a card's own fields are kept serialized while they stay the same, and written anew when one changes")
    {
        CardSummary card = pkiCard("good");
        const api::ExpiryPolicy policy;
        const auto fieldsOf = [&](const CardSummary& c) {
            auto json = api::Json::parse(api::cardJsonText(c, policy));
            json.erase("certificates");
            return json;
        };
        CHECK(fieldsOf(card) == api::cardFieldsJson(card));
        CHECK(fieldsOf(card) == fieldsOf(card));
        // Every field the listing shows, changed under the same card id, shows in the next listing.
        const std::vector<std::function<void(CardSummary&)>> changes{
            [](CardSummary& c) { c.label = "another label"; },
            [](CardSummary& c) { c.reader = "another reader"; },
            [](CardSummary& c) { c.profile = "jpki"; },
            [](CardSummary& c) { c.pins.front().status.triesLeft -= 1; },
            [](CardSummary& c) { c.pins.front().status.blocked = true; },
            [](CardSummary& c) { c.pins.front().label = "another PIN"; },
            [](CardSummary& c) { c.pins.front().format.maxLength += 1; },
            [](CardSummary& c) {
                auto& format = c.pins.front().unblockCodeFormat;
                format = format ? std::nullopt : std::optional<PinFormat>(PinFormat{8, 16, PinFormat::Alphabet::Digits});
            },
            [](CardSummary& c) { c.signingCertificateId = "other"; },
            [](CardSummary& c) { c.pinpad = !c.pinpad; },
            [](CardSummary& c) { c.blockedByPolicy = !c.blockedByPolicy; },
        };
        for (std::size_t i = 0; i < changes.size(); ++i) {
            CAPTURE(i);
            CardSummary changed = card;
            changes[i](changed);
            CHECK(api::cardFieldsKey(changed) != api::cardFieldsKey(card));
            CHECK(fieldsOf(changed) == api::cardFieldsJson(changed));
            CHECK(fieldsOf(changed) != api::cardFieldsJson(card));
            CHECK(fieldsOf(card) == api::cardFieldsJson(card));
        }
    }

    TEST_CASE("JSON: a certificate that does not parse keeps the service's fields and gains nothing")
    {
        CertificateSummary broken;
        broken.id = "sign";
        broken.serialNumber = "01";
        broken.der = {0x30, 0x03, 0x02, 0x01, 0x01};
        const auto listing = api::certificateListingJson(broken, {});
        CHECK(listing["id"] == "sign");
        CHECK_FALSE(listing.contains("daysLeft"));
        const auto resource = api::certificateResourceJson(broken, {});
        CHECK(resource["der"] == "MAMCAQE=");
        CHECK_FALSE(resource.contains("registry"));
    }

    TEST_CASE("status: each reader's card carries the expiry of its own certificate, not its CA's")
    {
        const CardSummary card = pkiCard("good");
        AgentStatus status;
        status.pcscAvailable = true;
        status.readers.push_back(readerWith(card.reader, card.id));
        status.readers.push_back(readerWith("Empty reader", std::nullopt));
        const auto json = api::statusJson(status, {card}, "9.9.9", {});
        CHECK(json["readers"][0]["certificateExpiry"]["certificateId"] == "sign");
        CHECK(json["readers"][0]["certificateExpiry"]["expired"] == false);
        CHECK_FALSE(json["readers"][1].contains("certificateExpiry"));
    }

    TEST_CASE("the check pool refuses work beyond its queue with BUSY and fails queued work when retired")
    {
        service::TaskPool pool(1, 1);
        std::mutex mutex;
        std::condition_variable cv;
        bool release = false;
        Awaited<int> first, second, third;
        service::runOnPool<int>(pool, [&] {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return release; });
            return 1;
        }, first.completion());
        // The first task may not have been taken from the queue yet: wait until it has.
        std::this_thread::sleep_for(milliseconds(100));
        service::runOnPool<int>(pool, [] { return 2; }, second.completion());
        service::runOnPool<int>(pool, [] { return 3; }, third.completion());
        const auto refused = third.get();
        REQUIRE(std::holds_alternative<std::exception_ptr>(refused));
        CHECK(codeOf(std::get<std::exception_ptr>(refused)) == ErrorCode::Busy);

        pool.retire(Error(ErrorCode::Busy, "stopping"));
        {
            const std::lock_guard lock(mutex);
            release = true;
        }
        cv.notify_all();
        CHECK(std::get<int>(first.get()) == 1);  // the running one finishes
        const auto queued = second.get();
        REQUIRE(std::holds_alternative<std::exception_ptr>(queued));
        CHECK(codeOf(std::get<std::exception_ptr>(queued)) == ErrorCode::Busy);
        pool.join();
    }

    TEST_CASE("a signature matches the certificate only when made with its key")
    {
        const Bytes digest(32, 0x5A);
        const Bytes certificate = testPki().leaf("good");
        std::string why;
        CHECK(service::signatureMatchesCertificate(certificate, digest, signWith(testPki().dir / "private" / "good.key", digest), why));
        CHECK_FALSE(service::signatureMatchesCertificate(certificate, digest, signWith(testPki().dir / "private" / "revoked.key", digest), why));
        CHECK(why == "the key on the card is not the certificate's key");
        const Bytes other(32, 0x00);
        CHECK_FALSE(service::signatureMatchesCertificate(certificate, other, signWith(testPki().dir / "private" / "good.key", digest), why));
    }

    TEST_CASE("validation without anchors: the chain fails as unknownIssuer and says why")
    {
        TempDir dir;
        service::CertificateChecker checker(offlineChecks(dir.path / "absent"));
        const auto v = checker.validateNow(testPki().leaf("good"), {testPki().pemAsDer("intermediate.pem")}, std::nullopt);
        CHECK(v.verdict == Verdict::Invalid);
        CHECK(v.chain.reason == cert::ChainFailure::UnknownIssuer);
        CHECK(v.trustAnchorCount == 0);
        CHECK(v.trustAnchorsProblem.find("does not exist") != std::string::npos);
        CHECK(v.revocationSkipped == service::RevocationSkip::Disabled);
    }

    TEST_CASE("validation uses the card's other certificates as intermediates and ignores junk among them")
    {
        TempDir anchors;
        fs::copy_file(testPki().dir / "root.pem", anchors.path / "root.pem");  // the root only
        service::CertificateChecker checker(offlineChecks(anchors.path));
        const auto withoutCa = checker.validateNow(testPki().leaf("good"), {}, std::nullopt);
        CHECK(withoutCa.chain.reason == cert::ChainFailure::UnknownIssuer);
        const auto withCa = checker.validateNow(testPki().leaf("good"), {Bytes{0x30, 0x00}, testPki().pemAsDer("intermediate.pem")},
                                                std::nullopt);
        CHECK(withCa.verdict == Verdict::Valid);
        CHECK(withCa.chain.chain.size() == 3);
        CHECK(withCa.summary.find("turned off") != std::string::npos);
    }

    TEST_CASE("self-test without a PIN: no signature, key skipped, and it passes")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        const auto report = selfTest(card, checker, std::nullopt);
        CHECK(report.passed);
        CHECK(card.signCalls == 0);
        CHECK(checkNamed(report, "reader").result == CheckResult::Pass);
        CHECK(checkNamed(report, "card").result == CheckResult::Pass);
        CHECK(checkNamed(report, "pin").detail == "10 of 10 tries left");
        CHECK(checkNamed(report, "certificate:sign").result == CheckResult::Pass);
        CHECK(checkNamed(report, "certificate:ca").result == CheckResult::Pass);
        CHECK(checkNamed(report, "key").result == CheckResult::Skipped);
        CHECK(checkNamed(report, "chain").result == CheckResult::Pass);
        CHECK(checkNamed(report, "revocation").result == CheckResult::Skipped);
    }

    TEST_CASE("self-test with a PIN: the card's signature verifies with the certificate")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        const auto report = selfTest(card, checker, Secret("1234"));
        CHECK(card.signCalls == 1);
        CHECK(checkNamed(report, "key").result == CheckResult::Pass);
        CHECK(report.passed);
    }

    TEST_CASE("self-test: a key that is not the certificate's fails the key check")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        card.signingKey = "revoked";
        const auto report = selfTest(card, checker, Secret("1234"));
        CHECK(checkNamed(report, "key").result == CheckResult::Fail);
        CHECK_FALSE(report.passed);
    }

    TEST_CASE("self-test: a wrong PIN fails the key check with the tries left, not the request")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        card.signFailure = std::make_exception_ptr(Error(ErrorCode::PinIncorrect, "wrong PIN").withTriesLeft(9));
        const auto report = selfTest(card, checker, Secret("0000"));
        const auto& key = checkNamed(report, "key");
        CHECK(key.result == CheckResult::Fail);
        CHECK(key.detail == "the test signature failed: wrong PIN: 9 tries left before the card locks");
        CHECK_FALSE(report.passed);
    }

    TEST_CASE("self-test: a blocked PIN fails, and no signature is attempted")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        card.pin = {0, 10, true};
        const auto report = selfTest(card, checker, Secret("1234"));
        CHECK(card.signCalls == 0);
        CHECK(checkNamed(report, "pin").result == CheckResult::Fail);
        CHECK(checkNamed(report, "key").result == CheckResult::Fail);
    }

    TEST_CASE("self-test: a card that does not answer fails the card check and skips the key")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        card.pinFailure = std::make_exception_ptr(Error(ErrorCode::CardRemoved, "the card was removed"));
        const auto report = selfTest(card, checker, Secret("1234"));
        CHECK(checkNamed(report, "card").result == CheckResult::Fail);
        CHECK(checkNamed(report, "card").detail.find("CARD_REMOVED") != std::string::npos);
        CHECK(checkNamed(report, "key").result == CheckResult::Skipped);
        CHECK(card.signCalls == 0);
    }

    TEST_CASE("self-test: an unparseable certificate fails its check; no anchors skip the chain")
    {
        TempDir empty;
        service::CertificateChecker checker(offlineChecks(empty.path));
        ScriptedCard card;
        card.card.certificates[0].der = {0x30, 0x03, 0x02, 0x01, 0x01};
        const auto report = selfTest(card, checker, std::nullopt);
        CHECK(checkNamed(report, "certificate:ca").result == CheckResult::Fail);
        CHECK(checkNamed(report, "certificate:sign").result == CheckResult::Pass);
        CHECK(checkNamed(report, "chain").result == CheckResult::Skipped);
        CHECK_FALSE(report.passed);
    }

    TEST_CASE("self-test of a card that is not there is the caller's error")
    {
        service::CertificateChecker checker(offlineChecks(testPki().trustDir()));
        ScriptedCard card;
        card.cardFailure = std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no card"));
        Awaited<service::SelfTestReport> awaited;
        service::runSelfTest(card.steps(), checker, "nope", std::nullopt, awaited.completion());
        const auto outcome = awaited.get();
        REQUIRE(std::holds_alternative<std::exception_ptr>(outcome));
        CHECK(codeOf(std::get<std::exception_ptr>(outcome)) == ErrorCode::CardNotFound);
    }
}
