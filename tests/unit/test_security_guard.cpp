// The PIN guard, the wrong-PIN rate limit and the card access that applies
// them (with the policy) in front of a fake card agent.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "daemon/error.hpp"
#include "daemon/security/card_access.hpp"
#include "daemon/security/pin_guard.hpp"
#include "daemon/security/rate_limiter.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace inkan::security;

namespace {

constexpr std::string_view kCardId = "c0ffee0000000001";
constexpr std::string_view kPortal = "https://portal.example.jp";
constexpr std::string_view kRightPin = "1234";

/// A card agent with one reference card whose PIN counter behaves like the card's.
class GuardedCardFake final : public CardAgent {
public:
    PinStatus pin{10, 10, false};
    PinStatus unblockCode{10, 10, false};
    bool readerHasPinpad = false;
    std::string typedOnPinpad;
    std::string serial = "0A1B";
    bool deferVerify = false;  // hold verifyPin completions until release()
    std::vector<std::string> calls;
    std::vector<std::string> pinsSeen;
    std::deque<std::function<void()>> held;

    void status(Completion<AgentStatus> done) override
    {
        calls.push_back("status");
        ReaderSummary reader{"Reader 0", true, std::string(kCardId), "3B"};
        done(AgentStatus{true, {reader, ReaderSummary{"Reader 1", false, std::nullopt, std::nullopt}}});
    }
    void cards(Completion<std::vector<CardSummary>> done) override
    {
        calls.push_back("cards");
        done(std::vector<CardSummary>{summary()});
    }
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        calls.push_back("card");
        if (cardId != kCardId) return done(std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no such card")));
        done(summary());
    }
    void certificate(const std::string&, const std::string&, Completion<CertificateSummary> done) override
    {
        calls.push_back("certificate");
        done(summary().certificates.front());
    }
    void pinStatus(const std::string&, const std::string&, Completion<PinStatus> done) override
    {
        calls.push_back("pinStatus");
        done(pin);
    }
    void unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done) override
    {
        calls.push_back("unblockCodeStatus");
        done(unblockCode);
    }
    // The check runs where the card service runs it: with the counter read in
    // the operation's transaction, right before the command that spends a try.
    void verifyPin(const std::string&, const std::string&, PinInput value, PinCheck check, Completion<PinStatus> done) override
    {
        calls.push_back(value.isOnPinpad() ? "verifyPin(pinpad)" : "verifyPin");
        if (deferVerify) {
            auto input = std::make_shared<PinInput>(std::move(value));
            held.push_back([this, input, check, done] {
                if (auto refused = checked(check, pin)) return done(refused);
                done(attempt(*input));
            });
            return;
        }
        if (auto refused = checked(check, pin)) return done(refused);
        done(attempt(value));
    }
    void changePin(const std::string&, const std::string&, PinInput value, PinInput, PinCheck check, Completion<PinStatus> done) override
    {
        calls.push_back(value.isOnPinpad() ? "changePin(pinpad)" : "changePin");
        if (auto refused = checked(check, pin)) return done(refused);
        done(attempt(value));
    }
    void unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck check, Completion<PinStatus> done) override
    {
        calls.push_back("unblockPin");
        if (auto refused = checked(check, unblockCode)) return done(refused);
        pin = PinStatus{10, 10, false};
        done(pin);
    }
    void sign(const std::string&, SignRequest request, PinCheck check, Completion<SignResult> done) override
    {
        calls.push_back(!request.pin ? "sign" : request.pin->isOnPinpad() ? "sign(pinpad)" : "sign(pin)");
        if (request.pin) {
            if (auto refused = checked(check, pin)) return done(refused);
            Outcome<PinStatus> verified = attempt(*request.pin);
            if (auto* error = std::get_if<std::exception_ptr>(&verified)) return done(*error);
        } else if (check) {
            calls.push_back("unexpected check");
        }
        done(SignResult{{1, 2}, "RSASSA-PKCS1-v1_5-SHA-256", "sign", {3}});
    }
    void endPinVerification(const std::string&, Completion<std::monostate> done) override
    {
        calls.push_back("endPinVerification");
        done(std::monostate{});
    }
    void shutdown() override {}

    void release()
    {
        auto next = std::move(held.front());
        held.pop_front();
        next();
    }

private:
    // The guard's callback, as the card service calls it; what it throws is the outcome.
    std::exception_ptr checked(const PinCheck& check, const PinStatus& counter)
    {
        if (!check) {
            calls.push_back("no check");
            return nullptr;
        }
        calls.push_back("check " + std::to_string(counter.triesLeft));
        try {
            check(counter);
        } catch (...) {
            return std::current_exception();
        }
        return nullptr;
    }

    CardSummary summary() const
    {
        CardSummary card = testing::referenceCardSummary(std::string(kCardId), pin);
        card.label = "test card";
                card.pinpad = readerHasPinpad;
        CertificateSummary certificate;
        certificate.id = "sign";
        certificate.serialNumber = serial;
        card.certificates.push_back(testing::withReferenceKey(certificate));
        return card;
    }

    // On the PIN pad the user types `typedOnPinpad`; inkand never sees it.
    Outcome<PinStatus> attempt(const PinInput& input)
    {
        const std::string value = input.isOnPinpad() ? typedOnPinpad : std::string(input.value().view());
        if (!input.isOnPinpad()) pinsSeen.push_back(value);
        if (value == kRightPin) {
            pin = PinStatus{10, 10, false};
            return pin;
        }
        pin.triesLeft -= 1;
        pin.blocked = pin.triesLeft == 0;
        if (pin.blocked) return std::make_exception_ptr(Error(ErrorCode::PinBlocked, "blocked").withTriesLeft(0));
        return std::make_exception_ptr(Error(ErrorCode::PinIncorrect, "wrong PIN").withTriesLeft(pin.triesLeft));
    }
};

/// What a completion delivered: the value, or the error's code and fields.
template <class T>
struct Result {
    std::optional<T> value;
    std::optional<Error> error;
    int calls = 0;

    Completion<T> completion()
    {
        return [this](Outcome<T> outcome) {
            ++calls;
            if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
                try {
                    std::rethrow_exception(*failure);
                } catch (const Error& e) {
                    error = e;
                }
                return;
            }
            value = std::get<T>(std::move(outcome));
        };
    }
    std::optional<ErrorCode> code() const { return error ? std::optional<ErrorCode>(error->code()) : std::nullopt; }
};

struct Harness {
    GuardedCardFake agent;
    std::shared_ptr<Policy> policy;
    std::unique_ptr<CardAccess> access;
    std::vector<std::string> log;

    VerifiedPins::Clock::time_point now{};

    explicit Harness(PolicySettings settings = defaultSettings())
    {
        policy = std::make_shared<Policy>(std::move(settings));
        CardAccessOptions options;
        options.policy = policy;
        options.log = [this](std::string_view line) { log.emplace_back(line); };
        options.now = [this] { return now; };
        access = std::make_unique<CardAccess>(agent, std::move(options));
    }

    static PolicySettings defaultSettings()
    {
        PolicySettings settings;
        OriginGrant portal;
        portal.origin = kPortal;
        portal.operations = OperationSet::all();
        settings.allowedOrigins.push_back(portal);
        settings.pinentryProgram.reset();
        return settings;
    }

    Result<PinStatus> verify(const Principal& who, std::optional<std::string_view> pin, bool acknowledge = false)
    {
        Result<PinStatus> result;
        std::optional<Secret> secret;
        if (pin) secret.emplace(*pin);
        access->verifyPin(who, std::string(kCardId), std::move(secret), PinRequestOptions{acknowledge}, result.completion());
        return result;
    }

    Result<SignResult> sign(const Principal& who, std::optional<std::string_view> pin, bool acknowledge = false)
    {
        Result<SignResult> result;
        SignRequest request;
        request.digest = Bytes(32, 7);
        if (pin) request.pin.emplace(Secret(*pin));
        access->sign(who, std::string(kCardId), std::move(request), PinRequestOptions{acknowledge}, result.completion());
        return result;
    }
};

const Principal kLocal = Principal::localClient();
const Principal kPage = Principal::webOrigin(std::string(kPortal));

}  // namespace

TEST_SUITE("security PIN guard")
{
    TEST_CASE("more tries than the threshold: go ahead")
    {
        CHECK_NOTHROW(checkPinTries(PinStatus{4, 10, false}, PinGuardRequest{3, false, false}));
        CHECK_NOTHROW(checkPinTries(PinStatus{1, 10, false}, PinGuardRequest{0, false, false}));
    }

    TEST_CASE("at or below the threshold: only an acknowledged request of a caller that may acknowledge")
    {
        for (int left : {3, 2, 1}) {
            CAPTURE(left);
            try {
                checkPinTries(PinStatus{left, 10, false}, PinGuardRequest{3, false, true});
                FAIL("not guarded");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::PinGuard);
                CHECK(e.triesLeft == left);
            }
            CHECK_THROWS_AS(checkPinTries(PinStatus{left, 10, false}, PinGuardRequest{3, true, false}), Error);
            CHECK_NOTHROW(checkPinTries(PinStatus{left, 10, false}, PinGuardRequest{3, true, true}));
        }
    }

    TEST_CASE("a blocked PIN is PIN_BLOCKED whatever the request says")
    {
        for (const PinStatus& status : {PinStatus{0, 10, true}, PinStatus{0, 10, false}}) {
            try {
                checkPinTries(status, PinGuardRequest{3, true, true});
                FAIL("a blocked PIN passed");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::PinBlocked);
            }
        }
    }
}

TEST_SUITE("security wrong-PIN limiter")
{
    TEST_CASE("failures within the window use up the attempts; they come back as the window slides")
    {
        FailureLimiter::Clock::time_point now{};
        FailureLimiter limiter(3, std::chrono::minutes(10), [&] { return now; });
        for (int i = 0; i < 3; ++i) {
            auto admission = limiter.begin("a");
            REQUIRE(admission.attempt);
            admission.attempt->settle(true);
            now += std::chrono::minutes(1);
        }
        const auto refused = limiter.begin("a");
        CHECK_FALSE(refused.attempt);
        CHECK(refused.retryAfterSeconds == 7 * 60);  // the first failure leaves the window at 10:00
        CHECK(limiter.begin("b").attempt);           // per key
        now += std::chrono::minutes(7);
        CHECK(limiter.begin("a").attempt);
    }

    TEST_CASE("successes cost nothing; unsettled attempts count until settled")
    {
        FailureLimiter::Clock::time_point now{};
        FailureLimiter limiter(2, std::chrono::minutes(10), [&] { return now; });
        for (int i = 0; i < 5; ++i) limiter.begin("a").attempt->settle(false);
        auto first = limiter.begin("a");
        auto second = limiter.begin("a");
        REQUIRE(first.attempt);
        REQUIRE(second.attempt);
        const auto third = limiter.begin("a");
        CHECK_FALSE(third.attempt);
        CHECK(third.retryAfterSeconds == 1);
        first.attempt.reset();  // dropped unsettled: no failure
        CHECK(limiter.begin("a").attempt);
        CHECK(limiter.recentFailures("a") == 0);
    }
}

TEST_SUITE("security card access")
{
    TEST_CASE("a malformed PIN is refused before the PIN counter is read")
    {
        Harness h;
        for (const char* pin : {"", "12", "12a4", "12345678901234567"}) {
            CAPTURE(pin);
            h.agent.calls.clear();
            CHECK(h.verify(kLocal, pin).code() == ErrorCode::PinFormat);
            CHECK(h.agent.calls == std::vector<std::string>{"card"});
        }
    }

    TEST_CASE("every PIN attempt has the guard decide on the counter read in its own transaction; at three tries left it stops")
    {
        Harness h;
        CHECK(h.verify(kLocal, "1234").value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "verifyPin", "check 10"});

        h.agent.pin = PinStatus{3, 10, false};
        h.agent.calls.clear();
        const auto guarded = h.verify(kLocal, "0000");
        CHECK(guarded.code() == ErrorCode::PinGuard);
        CHECK(guarded.error->triesLeft == 3);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "verifyPin", "check 3"});
        CHECK(h.agent.pinsSeen.size() == 1);

        // The local client may say it means it.
        CHECK(h.verify(kLocal, "1234", true).value.has_value());
    }

    TEST_CASE("a page may not acknowledge the last tries unless its grant says so")
    {
        PolicySettings settings = Harness::defaultSettings();
        settings.allowedOrigins.push_back(OriginGrant{"https://ack.example", OperationSet::all(), std::nullopt, std::nullopt, true});
        Harness h(std::move(settings));
        h.agent.pin = PinStatus{2, 10, false};
        CHECK(h.sign(kPage, "1234", true).code() == ErrorCode::PinGuard);
        CHECK(h.agent.pinsSeen.empty());
        CHECK(h.sign(Principal::webOrigin("https://ack.example"), "1234", true).value.has_value());
        CHECK(h.agent.pin.triesLeft == 10);
    }

    TEST_CASE("a blocked PIN is reported without sending the PIN; unblocking is guarded by the unblock code's counter")
    {
        Harness h;
        h.agent.pin = PinStatus{0, 10, true};
        CHECK(h.verify(kLocal, "1234", true).code() == ErrorCode::PinBlocked);
        CHECK(h.agent.pinsSeen.empty());
        h.agent.calls.clear();
        Result<PinStatus> unblocked;
        h.access->unblockPin(kLocal, std::string(kCardId), Secret("12345678"), Secret("1234"), {}, unblocked.completion());
        CHECK(unblocked.value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "unblockPin", "check 10"});
    }

    TEST_CASE("the unblock code's last tries are guarded like the PIN's; a blocked one is UNBLOCK_CODE_BLOCKED")
    {
        Harness h;
        h.agent.pin = PinStatus{0, 10, true};
        h.agent.unblockCode = PinStatus{2, 10, false};
        Result<PinStatus> guarded;
        h.access->unblockPin(kLocal, std::string(kCardId), Secret("12345678"), Secret("1234"), {}, guarded.completion());
        CHECK(guarded.code() == ErrorCode::PinGuard);
        CHECK(guarded.error->triesLeft == 2);
        CHECK(std::string(guarded.error->what()).find("reissued") != std::string::npos);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "unblockPin", "check 2"});

        Result<PinStatus> acknowledged;
        h.access->unblockPin(kLocal, std::string(kCardId), Secret("12345678"), Secret("1234"), PinRequestOptions{true},
                             acknowledged.completion());
        CHECK(acknowledged.value.has_value());

        h.agent.unblockCode = PinStatus{0, 10, true};
        h.agent.calls.clear();
        Result<PinStatus> blocked;
        h.access->unblockPin(kLocal, std::string(kCardId), Secret("12345678"), Secret("1234"), PinRequestOptions{true},
                             blocked.completion());
        CHECK(blocked.code() == ErrorCode::UnblockCodeBlocked);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "unblockPin", "check 0"});
    }

    TEST_CASE("checkUnblockCodeTries: the same threshold, its own blocked code")
    {
        CHECK_NOTHROW(checkUnblockCodeTries(PinStatus{4, 10, false}, PinGuardRequest{3, false, false}));
        CHECK_THROWS_AS(checkUnblockCodeTries(PinStatus{3, 10, false}, PinGuardRequest{3, false, true}), Error);
        CHECK_NOTHROW(checkUnblockCodeTries(PinStatus{3, 10, false}, PinGuardRequest{3, true, true}));
        try {
            checkUnblockCodeTries(PinStatus{0, 10, true}, PinGuardRequest{3, true, true});
            FAIL("a blocked unblock code went through");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::UnblockCodeBlocked);
        }
    }

    TEST_CASE("wrong PINs from a page are rate-limited, before anything reaches the card")
    {
        Harness h;
        for (int left : {9, 8, 7}) {
            const auto wrong = h.sign(kPage, "0000");
            CHECK(wrong.code() == ErrorCode::PinIncorrect);
            CHECK(wrong.error->triesLeft == left);
        }
        h.agent.calls.clear();
        const auto limited = h.sign(kPage, "1234");
        CHECK(limited.code() == ErrorCode::PinRateLimited);
        CHECK(limited.error->retryAfterSeconds.value_or(0) > 0);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
        CHECK(h.agent.pin.triesLeft == 7);
        // The local client is not limited (it may do everything anyway).
        CHECK(h.verify(kLocal, "1234").value.has_value());
        CHECK(std::find_if(h.log.begin(), h.log.end(), [](const std::string& line) {
                  return line.find("PIN_RATE_LIMITED") != std::string::npos && line.find(kPortal) != std::string::npos;
              }) != h.log.end());
    }

    TEST_CASE("PIN operations on one card run one at a time")
    {
        Harness h;
        h.agent.deferVerify = true;
        auto first = std::make_unique<Result<PinStatus>>();
        auto second = std::make_unique<Result<PinStatus>>();
        h.access->verifyPin(kLocal, std::string(kCardId), Secret("0000"), {}, first->completion());
        h.access->verifyPin(kLocal, std::string(kCardId), Secret("1234"), {}, second->completion());
        CHECK(std::count(h.agent.calls.begin(), h.agent.calls.end(), "verifyPin") == 1);
        h.agent.release();
        CHECK(first->code() == ErrorCode::PinIncorrect);
        CHECK(second->calls == 0);
        CHECK(std::count(h.agent.calls.begin(), h.agent.calls.end(), "verifyPin") == 2);
        h.agent.release();
        CHECK(second->value.has_value());
        CHECK(h.agent.held.empty());
    }

    TEST_CASE("the PIN comes from where the origin's policy says")
    {
        PolicySettings settings = Harness::defaultSettings();
        settings.allowedOrigins.push_back(OriginGrant{"https://dialog.example", OperationSet::all(), std::nullopt, PinSource::Pinentry, false});
        settings.allowedOrigins.push_back(OriginGrant{"https://pinpad.example", OperationSet::all(), std::nullopt, PinSource::Pinpad, false});
        Harness h(std::move(settings));
        const Principal dialog = Principal::webOrigin("https://dialog.example");
        CHECK(h.sign(dialog, "1234").code() == ErrorCode::PinSourceMismatch);
        CHECK(h.agent.calls.empty());
        CHECK(h.sign(dialog, std::nullopt).code() == ErrorCode::PinEntryUnavailable);  // no pinentry in this harness
        // This reader has no PIN pad: refused before the counter is read.
        h.agent.calls.clear();
        CHECK(h.sign(Principal::webOrigin("https://pinpad.example"), std::nullopt).code() == ErrorCode::PinpadUnavailable);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
        CHECK(h.agent.pinsSeen.empty());
        // The request source needs the PIN fields (a signature may rely on an earlier verification).
        const auto missing = h.verify(kPage, std::nullopt);
        CHECK(missing.code() == ErrorCode::BadRequest);
        CHECK(std::string(missing.error->what()) == "field 'pin' is required");
        CHECK(h.verify(kPage, "1234").value.has_value());
        h.agent.calls.clear();
        CHECK(h.sign(kPage, std::nullopt).value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "sign"});
    }

    TEST_CASE("on a reader with a PIN pad, the pad's origin signs and changes the PIN with nothing from the page")
    {
        PolicySettings settings = Harness::defaultSettings();
        settings.allowedOrigins.push_back(OriginGrant{"https://pinpad.example", OperationSet::all(), std::nullopt, PinSource::Pinpad, false});
        Harness h(std::move(settings));
        h.agent.readerHasPinpad = true;
        const Principal pad = Principal::webOrigin("https://pinpad.example");

        h.agent.typedOnPinpad = std::string(kRightPin);
        CHECK(h.sign(pad, std::nullopt).value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "sign(pinpad)", "check 10"});
        CHECK(h.sign(pad, "1234").code() == ErrorCode::PinSourceMismatch);

        // A wrong PIN typed on the pad spends a try and counts for the origin's rate limit like any other.
        h.agent.typedOnPinpad = "0000";
        const auto wrong = h.verify(pad, std::nullopt);
        CHECK(wrong.code() == ErrorCode::PinIncorrect);
        CHECK(wrong.error->triesLeft == 9);

        // The guard reads the counter first, whatever the source.
        h.agent.pin = PinStatus{3, 10, false};
        h.agent.calls.clear();
        CHECK(h.verify(pad, std::nullopt).code() == ErrorCode::PinGuard);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "verifyPin(pinpad)", "check 3"});

        h.agent.pin = PinStatus{10, 10, false};
        h.agent.typedOnPinpad = std::string(kRightPin);
        h.agent.calls.clear();
        Result<PinStatus> changed;
        h.access->changePin(pad, std::string(kCardId), std::nullopt, std::nullopt, {}, changed.completion());
        CHECK(changed.value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "changePin(pinpad)", "check 10"});
        CHECK(h.agent.pinsSeen.empty());
    }

    TEST_CASE("the local client may choose the PIN pad; a page may not choose it against its policy")
    {
        Harness h;
        const auto request = [] {
            SignRequest r;
            r.digest = Bytes(32, 7);
            return r;
        };
        Result<SignResult> noPad;
        h.access->sign(kLocal, std::string(kCardId), request(), PinRequestOptions{false, true}, noPad.completion());
        CHECK(noPad.code() == ErrorCode::PinpadUnavailable);

        h.agent.readerHasPinpad = true;
        h.agent.typedOnPinpad = std::string(kRightPin);
        h.agent.calls.clear();
        Result<SignResult> signed_;
        h.access->sign(kLocal, std::string(kCardId), request(), PinRequestOptions{false, true}, signed_.completion());
        CHECK(signed_.value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "sign(pinpad)", "check 10"});

        // A PIN value and the PIN pad at once: which one?
        Result<PinStatus> both;
        h.access->verifyPin(kLocal, std::string(kCardId), Secret("1234"), PinRequestOptions{false, true}, both.completion());
        CHECK(both.code() == ErrorCode::PinSourceMismatch);

        // The page's PIN comes from the request (its policy): it cannot move it to the pad.
        h.agent.calls.clear();
        Result<SignResult> page;
        h.access->sign(kPage, std::string(kCardId), request(), PinRequestOptions{false, true}, page.completion());
        CHECK(page.code() == ErrorCode::PinSourceMismatch);
        CHECK(h.agent.calls.empty());
    }

    TEST_CASE("an origin without a grant, or without the operation, reaches nothing")
    {
        PolicySettings settings;
        settings.allowedOrigins.push_back(OriginGrant{std::string(kPortal), OperationSet{Operation::Read}, std::nullopt, std::nullopt, false});
        Harness h(std::move(settings));
        CHECK(h.sign(kPage, "1234").code() == ErrorCode::OperationForbidden);
        CHECK(h.verify(Principal::webOrigin("https://stranger.example"), "1234").code() == ErrorCode::OperationForbidden);
        CHECK(h.agent.pinsSeen.empty());
        Result<CardSummary> authorized;
        h.access->authorize(kPage, std::string(kCardId), Operation::Read, authorized.completion());
        CHECK(authorized.value.has_value());
    }

    TEST_CASE("lists keep what the principal may read and mark blocked cards")
    {
        PolicySettings settings = Harness::defaultSettings();
        settings.blockedCertificateSerials = {"A1B"};
        Harness h(std::move(settings));
        Result<std::vector<CardSummary>> local;
        h.access->cards(kLocal, local.completion());
        REQUIRE(local.value->size() == 1);
        CHECK(local.value->front().blockedByPolicy);
        Result<AgentStatus> status;
        h.access->status(kLocal, status.completion());
        CHECK(status.value->readers.front().blockedByPolicy);
        CHECK(h.sign(kLocal, "1234").code() == ErrorCode::CardBlockedByPolicy);

        Result<std::vector<CardSummary>> stranger;
        h.access->cards(Principal::webOrigin("https://stranger.example"), stranger.completion());
        CHECK(stranger.value->empty());
        Result<AgentStatus> strangerStatus;
        h.access->status(Principal::webOrigin("https://stranger.example"), strangerStatus.completion());
        CHECK_FALSE(strangerStatus.value->readers.front().cardId.has_value());
    }

    TEST_CASE("describe says what a principal may do")
    {
        Harness h;
        CHECK(h.access->describe(kLocal).standing == AccessSummary::Standing::LocalClient);
        const AccessSummary page = h.access->describe(kPage);
        CHECK(page.standing == AccessSummary::Standing::Allowlisted);
        CHECK(page.operations == OperationSet::all());
        CHECK(page.pinSource == PinSource::Request);
        CHECK(h.access->describe(Principal::webOrigin("https://stranger.example")).standing == AccessSummary::Standing::Unknown);
        const AccessSummary console = h.access->describe(Principal::console("https://127.0.0.1:24713"));
        CHECK(console.standing == AccessSummary::Standing::Console);
        CHECK_FALSE(console.mayAcknowledgeLowTries);
    }
}

TEST_SUITE("security verified PIN per principal")
{
    const Principal kOtherPage = Principal::webOrigin("https://bidding.example.jp");

    PolicySettings twoPortals()
    {
        PolicySettings settings = Harness::defaultSettings();
        settings.allowedOrigins.push_back(OriginGrant{"https://bidding.example.jp", OperationSet::all(), std::nullopt,
                                                      std::nullopt, false});
        return settings;
    }

    TEST_CASE("without a verification of its own a signature without PIN is PIN_REQUIRED, refused before the card")
    {
        Harness h;
        const auto refused = h.sign(kPage, std::nullopt);
        CHECK(refused.code() == ErrorCode::PinRequired);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
    }

    TEST_CASE("the principal that verified signs once without PIN; the verification is used up")
    {
        Harness h;
        CHECK(h.verify(kLocal, "1234").value.has_value());
        h.agent.calls.clear();
        CHECK(h.sign(kLocal, std::nullopt).value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "sign"});
        h.agent.calls.clear();
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
    }

    TEST_CASE("another principal's signature without PIN ends the verification on the card and is PIN_REQUIRED")
    {
        Harness h(twoPortals());
        CHECK(h.verify(kLocal, "1234").value.has_value());
        h.agent.calls.clear();
        CHECK(h.sign(kPage, std::nullopt).code() == ErrorCode::PinRequired);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "endPinVerification"});
        // Gone for the one who verified, too: someone else came in between.
        h.agent.calls.clear();
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
    }

    TEST_CASE("any operation of another principal on the card ends the verification before it runs")
    {
        Harness h(twoPortals());
        CHECK(h.verify(kPage, "1234").value.has_value());
        h.agent.calls.clear();
        Result<PinStatus> read;
        h.access->pinStatus(kOtherPage, std::string(kCardId), std::nullopt, read.completion());
        CHECK(read.value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "endPinVerification", "pinStatus"});
        CHECK(h.sign(kPage, std::nullopt).code() == ErrorCode::PinRequired);

        // A verification of its own by the other page replaces the first page's.
        CHECK(h.verify(kPage, "1234").value.has_value());
        h.agent.calls.clear();
        CHECK(h.verify(kOtherPage, "1234").value.has_value());
        CHECK(h.agent.calls == std::vector<std::string>{"card", "endPinVerification", "verifyPin", "check 10"});
        CHECK(h.sign(kPage, std::nullopt).code() == ErrorCode::PinRequired);
    }

    TEST_CASE("the console and a page of the same origin string are different principals")
    {
        Harness h(twoPortals());
        const Principal console = Principal::console(std::string(kPortal));
        CHECK(h.verify(console, "1234").value.has_value());
        CHECK(h.sign(kPage, std::nullopt).code() == ErrorCode::PinRequired);
    }

    TEST_CASE("the principal's own reads keep its verification; a refused operation of another touches nothing")
    {
        PolicySettings settings = twoPortals();
        settings.allowedOrigins.push_back(OriginGrant{"https://reader.example", OperationSet{Operation::Read},
                                                      std::nullopt, std::nullopt, false});
        Harness h(std::move(settings));
        CHECK(h.verify(kPage, "1234").value.has_value());
        Result<PinStatus> own;
        h.access->pinStatus(kPage, std::string(kCardId), std::nullopt, own.completion());
        CHECK(own.value.has_value());
        // Forbidden to sign: refused by the policy before the card, verification left alone.
        h.agent.calls.clear();
        CHECK(h.sign(Principal::webOrigin("https://reader.example"), std::nullopt).code() == ErrorCode::OperationForbidden);
        CHECK(h.agent.calls == std::vector<std::string>{"card"});
        CHECK(h.sign(kPage, std::nullopt).value.has_value());
    }

    TEST_CASE("the window: 30 s after the verification it is over, and the card's verification is ended first")
    {
        Harness h;
        CHECK(h.verify(kLocal, "1234").value.has_value());
        h.now += kVerifiedPinWindow;
        CHECK(h.sign(kLocal, std::nullopt).value.has_value());  // exactly at the end: still in

        CHECK(h.verify(kLocal, "1234").value.has_value());
        h.now += kVerifiedPinWindow + std::chrono::seconds(1);
        h.agent.calls.clear();
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);
        CHECK(h.agent.calls == std::vector<std::string>{"card", "endPinVerification"});
    }

    TEST_CASE("a failed verification, a PIN change or a signature with PIN leaves nothing to sign with")
    {
        Harness h;
        CHECK(h.verify(kLocal, "1234").value.has_value());
        CHECK(h.verify(kLocal, "0000").code() == ErrorCode::PinIncorrect);
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);

        CHECK(h.verify(kLocal, "1234").value.has_value());
        Result<PinStatus> changed;
        h.access->changePin(kLocal, std::string(kCardId), Secret("1234"), Secret("1234"), {}, changed.completion());
        CHECK(changed.value.has_value());
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);

        CHECK(h.verify(kLocal, "1234").value.has_value());
        CHECK(h.sign(kLocal, "1234").value.has_value());
        CHECK(h.sign(kLocal, std::nullopt).code() == ErrorCode::PinRequired);
    }

    TEST_CASE("PinHolder: kind and origin, nothing else")
    {
        CHECK(PinHolder::of(Principal::localClient()) == PinHolder::of(Principal::localClient()));
        CHECK(PinHolder::of(kPage) == PinHolder::of(Principal::webOrigin(std::string(kPortal))));
        CHECK_FALSE(PinHolder::of(kPage) == PinHolder::of(kOtherPage));
        CHECK_FALSE(PinHolder::of(kPage) == PinHolder::of(Principal::console(std::string(kPortal))));
        CHECK_FALSE(PinHolder::of(kLocal) == PinHolder::of(Principal::console("")));
    }
}
