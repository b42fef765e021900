// Origins, the config keys of the security policy, and who may do what.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/error.hpp"
#include "daemon/security/origin.hpp"
#include "daemon/security/policy.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace inkan::security;
using nlohmann::json;

namespace {

constexpr std::string_view kPortal = "https://portal.example.jp";

CardSummary cardWithSerial(std::string id, std::string serial)
{
    CardSummary card = testing::referenceCardSummary(std::move(id));
    CertificateSummary certificate;
    certificate.id = "sign";
    certificate.serialNumber = std::move(serial);
    card.certificates.push_back(testing::withReferenceKey(certificate));
    return card;
}

PolicySettings settingsFrom(const json& file)
{
    PolicySettings settings;
    for (const auto& [key, value] : file.items()) REQUIRE(applyConfigKey(settings, key, value, "test"));
    validate(settings);
    return settings;
}

std::optional<ErrorCode> refusal(const Policy& policy, const Principal& principal, const OriginGrant* grant,
                                 const CardSummary& card, Operation operation)
{
    try {
        policy.require(principal, grant, card, operation);
        return std::nullopt;
    } catch (const Error& e) {
        return e.code();
    }
}

}  // namespace

TEST_SUITE("security origins")
{
    TEST_CASE("origins are brought into the form browsers send")
    {
        CHECK(normalizeOrigin("HTTPS://Portal.Example.JP:443/") == kPortal);
        CHECK(normalizeOrigin("https://portal.example.jp:8443") == "https://portal.example.jp:8443");
        CHECK(normalizeOrigin("http://127.0.0.1:80") == "http://127.0.0.1");
        CHECK(normalizeOrigin("https://[::1]:3000") == "https://[::1]:3000");
    }

    TEST_CASE("what is not one concrete origin is refused with a reason")
    {
        for (const char* bad : {"*", "null", "", "portal.example.jp", "ftp://portal.example.jp", "https://portal.example.jp/path",
                                "https://user@portal.example.jp", "https://portal.example.jp.", "https://.portal.example.jp",
                                "https://portal..example.jp", "https://portal.example.jp:0", "https://portal.example.jp:+443",
                                "https://portal.example.jp:99999", "https://ポータル.jp", "https://portal.example.jp\t"}) {
            CAPTURE(bad);
            CHECK_THROWS_AS(normalizeOrigin(bad), OriginSyntaxError);
        }
    }

    TEST_CASE("only the exact serialization counts as a serialized origin")
    {
        CHECK(isSerializedOrigin(kPortal));
        for (const char* lookAlike : {"https://PORTAL.example.jp", "https://portal.example.jp/", "https://portal.example.jp:443",
                                      "HTTPS://portal.example.jp", "https://portal.example.jp.", "null", " https://portal.example.jp"}) {
            CAPTURE(lookAlike);
            CHECK_FALSE(isSerializedOrigin(lookAlike));
        }
    }

    TEST_CASE("https origins are trustworthy; plain http only for localhost, and only in development")
    {
        CHECK(isTrustworthyOrigin(kPortal, false));
        CHECK_FALSE(isTrustworthyOrigin("http://portal.example.jp", true));
        CHECK_FALSE(isTrustworthyOrigin("http://localhost:3000", false));
        CHECK(isTrustworthyOrigin("http://localhost:3000", true));
        CHECK(isTrustworthyOrigin("http://127.0.0.1:3000", true));
        CHECK(isTrustworthyOrigin("http://localhost", true));
        CHECK_FALSE(isTrustworthyOrigin("http://localhost.evil.example:3000", true));
        CHECK_FALSE(isTrustworthyOrigin("http://127.0.0.2:3000", true));
        CHECK_FALSE(isTrustworthyOrigin("http://LOCALHOST:3000", true));
        CHECK_FALSE(isTrustworthyOrigin("null", true));
        CHECK(untrustworthyOriginReason("http://portal.example.jp").find("--allow-insecure-localhost-origins") != std::string::npos);
    }
}

TEST_SUITE("security config")
{
    TEST_CASE("allowedOrigins takes strings and objects with their grants")
    {
        const PolicySettings settings = settingsFrom(json::parse(R"({
            "allowedOrigins": ["https://Portal.Example.jp",
                               {"origin": "https://tax.example.jp", "operations": ["read", "sign", "pin"],
                                "cards": ["c0ffee"], "pinSource": "pinentry", "acknowledgeLowTries": true}],
            "pinGuardThreshold": 2, "pinRateLimitAttempts": 5, "pinRateLimitWindowSeconds": 60,
            "pinentryProgram": "/usr/bin/pinentry-gnome3", "pinentryTimeoutSeconds": 30, "pairingDialog": false,
            "cards": [{"certificateSerial": "0a:1b", "origins": ["https://tax.example.jp"], "operations": ["sign"]}],
            "blockedCertificateSerials": ["00 DE AD"]})"));
        REQUIRE(settings.allowedOrigins.size() == 2);
        CHECK(settings.allowedOrigins[0].origin == kPortal);
        CHECK(settings.allowedOrigins[0].operations == OperationSet{Operation::Read, Operation::Sign});
        CHECK_FALSE(settings.allowedOrigins[0].pinSource.has_value());
        const OriginGrant& tax = settings.allowedOrigins[1];
        CHECK(tax.operations == OperationSet::all());
        CHECK(tax.cards == std::vector<std::string>{"c0ffee"});
        CHECK(tax.pinSource == PinSource::Pinentry);
        CHECK(tax.acknowledgeLowTries);
        CHECK(settings.pinGuardThreshold == 2);
        CHECK(settings.pinRateLimitAttempts == 5);
        CHECK(settings.pinRateLimitWindow == std::chrono::seconds(60));
        CHECK(settings.pinentryProgram == std::filesystem::path("/usr/bin/pinentry-gnome3"));
        CHECK(settings.pinentryTimeout == std::chrono::seconds(30));
        CHECK_FALSE(settings.pairingDialog);
        REQUIRE(settings.cards.size() == 1);
        CHECK(settings.cards[0].certificateSerial == "A1B");
        CHECK(settings.blockedCertificateSerials == std::vector<std::string>{"DEAD"});
    }

    TEST_CASE("pinentryProgram null turns the dialogs off; the default is /usr/bin/pinentry")
    {
        CHECK(PolicySettings{}.pinentryProgram == std::filesystem::path("/usr/bin/pinentry"));
        CHECK_FALSE(settingsFrom(json::parse(R"({"pinentryProgram": null})")).pinentryProgram.has_value());
    }

    TEST_CASE("keys of other parts of the config are left alone")
    {
        PolicySettings settings;
        CHECK_FALSE(applyConfigKey(settings, "port", 24713, "test"));
        CHECK_FALSE(applyConfigKey(settings, "revocation", json::object(), "test"));
    }

    TEST_CASE("malformed values are refused with the key named")
    {
        const std::vector<std::string> bad = {
            R"({"allowedOrigins": "https://a.example"})",
            R"({"allowedOrigins": [1]})",
            R"({"allowedOrigins": ["*"]})",
            R"({"allowedOrigins": [{"operations": ["read"]}]})",
            R"({"allowedOrigins": [{"origin": "https://a.example", "operations": ["write"]}]})",
            R"({"allowedOrigins": [{"origin": "https://a.example", "pinSource": "sms"}]})",
            R"({"allowedOrigins": [{"origin": "https://a.example", "acknowledgeLowTries": "yes"}]})",
            R"({"allowedOrigins": [{"origin": "https://a.example", "colour": "red"}]})",
            R"({"allowedOrigins": ["https://a.example", "https://A.example/"]})",
            R"({"pinGuardThreshold": -1})",
            R"({"pinGuardThreshold": 10})",
            R"({"pinRateLimitAttempts": 0})",
            R"({"pinentryProgram": "pinentry"})",
            R"({"pinentryTimeoutSeconds": 1})",
            R"({"cards": [{"origins": ["https://a.example"]}]})",
            R"({"cards": [{"cardId": "x", "certificateSerial": "01"}]})",
            R"({"cards": [{"certificateSerial": "xyz"}]})",
            R"({"blockedCertificateSerials": ["not hex"]})",
        };
        for (const auto& text : bad) {
            CAPTURE(text);
            PolicySettings settings;
            const json file = json::parse(text);
            CHECK_THROWS_AS(
                {
                    for (const auto& [key, value] : file.items()) applyConfigKey(settings, key, value, "config file X");
                },
                PolicyError);
        }
    }

    TEST_CASE("plain http origins are refused unless development mode allows localhost")
    {
        CHECK_THROWS_AS(settingsFrom(json::parse(R"({"allowedOrigins": ["http://portal.example.jp"]})")), PolicyError);
        CHECK_THROWS_AS(settingsFrom(json::parse(R"({"allowedOrigins": ["http://localhost:3000"]})")), PolicyError);
        CHECK_THROWS_AS(settingsFrom(json::parse(R"({"cards": [{"cardId": "x", "origins": ["http://a.example"]}]})")), PolicyError);
        CHECK(settingsFrom(json::parse(R"({"allowedOrigins": ["http://localhost:3000"], "allowInsecureLocalhostOrigins": true})"))
                  .allowedOrigins.size() == 1);
    }

    TEST_CASE("the command line's --allow-origin and --allow-insecure-localhost-origins reach the policy")
    {
        const char* plain[] = {"inkand", "--allow-origin", "HTTPS://Portal.Example.JP", "--allow-origin",
                               "http://localhost:8080", "--allow-insecure-localhost-origins"};
        const auto loaded = config::load(6, plain, [](std::string_view) { return std::nullopt; });
        const auto& loadedConfig = std::get<config::Config>(loaded);
        CHECK(loadedConfig.allowedOrigins == std::vector<std::string>{std::string(kPortal), "http://localhost:8080"});
        CHECK(loadedConfig.security.allowInsecureLocalhostOrigins);

        const char* refused[] = {"inkand", "--allow-origin", "http://localhost:8080"};
        CHECK_THROWS_AS(config::load(3, refused, [](std::string_view) { return std::nullopt; }), config::ConfigError);
    }

    TEST_CASE("serials are compared in one form whatever way they were copied")
    {
        CHECK(normalizeSerial("0a:1B 2c") == "A1B2C");
        CHECK(normalizeSerial("00-00-01") == "1");
        CHECK(normalizeSerial("00") == "0");
        CHECK(normalizeSerial("0x12").empty());
        CHECK(normalizeSerial("").empty());
    }
}

TEST_SUITE("security policy decisions")
{
    TEST_CASE("the local client may do everything, a grant-less origin nothing")
    {
        const Policy policy(PolicySettings{});
        const CardSummary card = cardWithSerial("c1", "0A");
        for (Operation operation : {Operation::Read, Operation::Sign, Operation::Pin}) {
            CHECK(refusal(policy, Principal::localClient(), nullptr, card, operation) == std::nullopt);
            CHECK(refusal(policy, Principal::webOrigin(std::string(kPortal)), nullptr, card, operation) ==
                  ErrorCode::OperationForbidden);
        }
    }

    TEST_CASE("an origin may do what its grant lists, on the cards it lists")
    {
        const Policy policy(PolicySettings{});
        OriginGrant grant;
        grant.origin = kPortal;
        grant.cards = std::vector<std::string>{"c1"};
        const Principal portal = Principal::webOrigin(std::string(kPortal));
        CHECK(refusal(policy, portal, &grant, cardWithSerial("c1", "0A"), Operation::Sign) == std::nullopt);
        CHECK(refusal(policy, portal, &grant, cardWithSerial("c1", "0A"), Operation::Pin) == ErrorCode::OperationForbidden);
        CHECK(refusal(policy, portal, &grant, cardWithSerial("c2", "0B"), Operation::Read) == ErrorCode::OperationForbidden);
        CHECK_FALSE(policy.verdict(portal, &grant, cardWithSerial("c2", "0B")).visible);
        // A grant is only good for its own origin.
        CHECK(refusal(policy, Principal::webOrigin("https://other.example"), &grant, cardWithSerial("c1", "0A"),
                      Operation::Read) == ErrorCode::OperationForbidden);
    }

    TEST_CASE("a card rule limits the origins that may see the card and what anyone may do with it")
    {
        PolicySettings settings;
        CardRule rule;
        rule.certificateSerial = "A1";
        rule.origins = std::vector<std::string>{"https://tax.example.jp"};
        rule.operations = OperationSet{Operation::Read, Operation::Sign};
        settings.cards.push_back(rule);
        const Policy policy(std::move(settings));
        const CardSummary card = cardWithSerial("c1", "00A1");
        OriginGrant portal;
        portal.origin = kPortal;
        OriginGrant tax;
        tax.origin = "https://tax.example.jp";
        tax.operations = OperationSet::all();
        CHECK(refusal(policy, Principal::webOrigin(std::string(kPortal)), &portal, card, Operation::Read) == ErrorCode::OperationForbidden);
        CHECK(refusal(policy, Principal::webOrigin(tax.origin), &tax, card, Operation::Sign) == std::nullopt);
        CHECK(refusal(policy, Principal::webOrigin(tax.origin), &tax, card, Operation::Pin) == ErrorCode::OperationForbidden);
        CHECK(refusal(policy, Principal::localClient(), nullptr, card, Operation::Pin) == ErrorCode::OperationForbidden);
        CHECK(refusal(policy, Principal::localClient(), nullptr, card, Operation::Sign) == std::nullopt);
    }

    TEST_CASE("a blocked serial refuses the card to everyone but keeps it listed")
    {
        PolicySettings settings;
        settings.blockedCertificateSerials = {"DEAD"};
        const Policy policy(std::move(settings));
        const CardSummary card = cardWithSerial("c1", "00DEAD");
        CHECK(policy.isBlocked(card));
        CHECK(refusal(policy, Principal::localClient(), nullptr, card, Operation::Read) == ErrorCode::CardBlockedByPolicy);
        OriginGrant grant;
        grant.origin = kPortal;
        CHECK(refusal(policy, Principal::webOrigin(std::string(kPortal)), &grant, card, Operation::Sign) ==
              ErrorCode::CardBlockedByPolicy);
        const CardVerdict verdict = policy.verdict(Principal::localClient(), nullptr, card);
        CHECK(verdict.blocked);
        CHECK(verdict.visible);
        CHECK(verdict.operations.empty());
        CHECK_FALSE(policy.isBlocked(cardWithSerial("c2", "BEEF")));
    }

    TEST_CASE("PIN sources: the request for the local client and by default; pinentry for paired origins when it exists")
    {
        OriginGrant grant;
        grant.origin = kPortal;
        const Principal portal = Principal::webOrigin(std::string(kPortal));
        const Policy withDialogs(PolicySettings{}, true);
        const Policy withoutDialogs(PolicySettings{}, false);
        CHECK(withDialogs.pinSource(Principal::localClient(), nullptr, false) == PinSource::Request);
        CHECK(withDialogs.pinSource(Principal::console("https://127.0.0.1:24713"), nullptr, false) == PinSource::Request);
        CHECK(withDialogs.pinSource(portal, &grant, false) == PinSource::Request);
        CHECK(withDialogs.pinSource(portal, &grant, true) == PinSource::Pinentry);
        CHECK(withoutDialogs.pinSource(portal, &grant, true) == PinSource::Request);
        grant.pinSource = PinSource::Pinpad;
        CHECK(withDialogs.pinSource(portal, &grant, true) == PinSource::Pinpad);
    }

    TEST_CASE("only the local client and origins configured so may acknowledge the last tries")
    {
        const Policy policy(PolicySettings{});
        OriginGrant grant;
        grant.origin = kPortal;
        const Principal portal = Principal::webOrigin(std::string(kPortal));
        CHECK(policy.mayAcknowledgeLowTries(Principal::localClient(), nullptr));
        CHECK_FALSE(policy.mayAcknowledgeLowTries(Principal::console("https://127.0.0.1:24713"), nullptr));
        CHECK_FALSE(policy.mayAcknowledgeLowTries(portal, &grant));
        grant.acknowledgeLowTries = true;
        CHECK(policy.mayAcknowledgeLowTries(portal, &grant));
        CHECK_FALSE(policy.mayAcknowledgeLowTries(Principal::webOrigin("https://other.example"), &grant));
    }
}
