// The audited card access (daemon/audit/audited_access.*) in front of the real
// security::CardAccess and a fake agent: the intent is on disk before the
// agent is asked, the outcome before the completion runs, and with an
// unusable ledger the agent is never asked.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "daemon/audit/audited_access.hpp"
#include "daemon/audit/chain.hpp"
#include "daemon/error.hpp"
#include "daemon/security/card_access.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCardId = "c0ffee0000000002";
constexpr std::string_view kPin = "80417253";

std::string ledgerText(const fs::path& dir)
{
    std::string text;
    for (const auto& segment : audit::listSegments(dir)) {
        std::ifstream in(segment, std::ios::binary);
        text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return text;
}

/// One card; every operation notes what the ledger held when the card was asked.
class RecordingAgent final : public CardAgent {
public:
    explicit RecordingAgent(fs::path dir) : dir_(std::move(dir)) {}

    std::vector<std::string> calls;
    std::string ledgerWhenSigning;
    std::string ledgerWhenVerifying;

    void status(Completion<AgentStatus> done) override { done(AgentStatus{}); }
    void cards(Completion<std::vector<CardSummary>> done) override { done(std::vector<CardSummary>{summary()}); }
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        if (cardId != kCardId) return done(std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no such card")));
        done(summary());
    }
    void certificate(const std::string&, const std::string&, Completion<CertificateSummary> done) override
    {
        done(summary().certificates.front());
    }
    void pinStatus(const std::string&, const std::string&, Completion<PinStatus> done) override
    {
        calls.push_back("pinStatus");
        done(PinStatus{10, 10, false});
    }
    void unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void verifyPin(const std::string&, const std::string&, PinInput pin, PinCheck check, Completion<PinStatus> done) override
    {
        calls.push_back("verifyPin");
        ledgerWhenVerifying = ledgerText(dir_);
        if (check) check(PinStatus{10, 10, false});
        if (pin.value().view() != kPin) {
            done(std::make_exception_ptr(Error(ErrorCode::PinIncorrect, "wrong PIN").withTriesLeft(9)));
            return;
        }
        done(PinStatus{10, 10, false});
    }
    void changePin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void sign(const std::string&, SignRequest, PinCheck check, Completion<SignResult> done) override
    {
        calls.push_back("sign");
        ledgerWhenSigning = ledgerText(dir_);
        if (check) check(PinStatus{10, 10, false});
        done(SignResult{Bytes(256, 0x5A), "RSASSA-PKCS1-v1_5-SHA-256", "sign", {}});
    }
    void endPinVerification(const std::string&, Completion<std::monostate> done) override
    {
        calls.push_back("endPinVerification");
        done(std::monostate{});
    }
    void shutdown() override {}

private:
    static CardSummary summary()
    {
        CardSummary card = testing::referenceCardSummary(std::string(kCardId), PinStatus{10, 10, false});
        card.label = "test card";
                CertificateSummary certificate;
        certificate.id = "sign";
        certificate.serialNumber = "0A1B";
        card.certificates.push_back(testing::withReferenceKey(certificate));
        return card;
    }

    fs::path dir_;
};

struct Harness {
    test::TempDir temp{"inkan-audit-access"};
    fs::path dir = temp.path / "audit";
    RecordingAgent agent{dir};
    std::unique_ptr<security::CardAccess> access;
    std::unique_ptr<audit::Ledger> ledger;
    std::unique_ptr<audit::AuditedCardAccess> audited;

    explicit Harness(fs::path ledgerDir = {})
    {
        security::CardAccessOptions options;
        options.policy = std::make_shared<security::Policy>(security::PolicySettings{});
        access = std::make_unique<security::CardAccess>(agent, std::move(options));
        audit::LedgerOptions ledgerOptions;
        ledgerOptions.dir = ledgerDir.empty() ? dir : ledgerDir;
        ledger = std::make_unique<audit::Ledger>(ledgerOptions);
        audited = std::make_unique<audit::AuditedCardAccess>(*access, *ledger);
    }

    Outcome<SignResult> sign()
    {
        SignRequest request;
        request.digest = Bytes(32, 0xAB);
        request.pin = PinInput(Secret(kPin));
        std::optional<Outcome<SignResult>> result;
        audited->sign(security::Principal::localClient(), audit::RequestInfo{"req-1", {}, {}}, std::string(kCardId), std::move(request),
                      {}, [&result](Outcome<SignResult> outcome) { result = std::move(outcome); });
        REQUIRE(result.has_value());
        return std::move(*result);
    }
};

}  // namespace

TEST_CASE("audited access: the intent is durable before the card signs, the done before the answer")
{
    Harness harness;
    const auto outcome = harness.sign();
    REQUIRE(std::holds_alternative<SignResult>(outcome));
    // When the card was asked, the ledger held the intent and nothing more.
    CHECK(harness.agent.ledgerWhenSigning.find("\"event\":\"intent\"") != std::string::npos);
    CHECK(harness.agent.ledgerWhenSigning.find("\"event\":\"done\"") == std::string::npos);
    CHECK(harness.agent.ledgerWhenSigning.find(std::string("abababab")) != std::string::npos);  // the digest

    const std::string after = ledgerText(harness.dir);
    CHECK(after.find("\"event\":\"done\"") != std::string::npos);
    CHECK(after.find(std::string(kPin)) == std::string::npos);
    const auto ops = harness.ledger->operations(audit::Query{}).operations;
    REQUIRE(ops.size() == 1);
    CHECK(ops[0]["result"] == "ok");
    CHECK(ops[0]["requestId"] == "req-1");
    CHECK(ops[0]["credential"]["certificateSerial"] == "0A1B");
    CHECK(ops[0]["who"]["kind"] == "local");
    CHECK(audit::verifyChain(harness.dir).ok);
}

TEST_CASE("audited access: a wrong PIN is recorded with the tries left, never the PIN")
{
    Harness harness;
    std::optional<Outcome<PinStatus>> result;
    harness.audited->verifyPin(security::Principal::localClient(), {}, std::string(kCardId), Secret("99999999"), {},
                               [&result](Outcome<PinStatus> outcome) { result = std::move(outcome); });
    REQUIRE(result.has_value());
    CHECK(std::holds_alternative<std::exception_ptr>(*result));
    CHECK(harness.agent.ledgerWhenVerifying.find("\"op\":\"pin.verify\"") != std::string::npos);
    const auto ops = harness.ledger->operations(audit::Query{}).operations;
    REQUIRE(ops.size() == 1);
    CHECK(ops[0]["result"] == "PIN_INCORRECT");
    CHECK(ops[0]["triesLeft"] == 9);
    CHECK(ledgerText(harness.dir).find("99999999") == std::string::npos);
}

TEST_CASE("audited access: an unusable ledger refuses with AUDIT_UNAVAILABLE and the card is never asked")
{
    test::TempDir temp("inkan-audit-blocked");
    const fs::path blocked = temp.path / "audit";
    { std::ofstream(blocked) << "a file where the directory should be"; }
    Harness harness(blocked);
    const auto outcome = harness.sign();
    REQUIRE(std::holds_alternative<std::exception_ptr>(outcome));
    try {
        std::rethrow_exception(std::get<std::exception_ptr>(outcome));
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::AuditUnavailable);
    }
    CHECK(harness.agent.calls.empty());  // not even the try counter was read
}
