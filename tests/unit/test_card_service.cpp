// The card service (daemon/service/card_service.*) without pcscd: a fake
// backend publishes reader events the way pcsc::ReaderMonitor does and
// connects to the in-process virtual reference card (tools/vcard).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/vcard_state.hpp"
#include "daemon/card/reference_card.hpp"
#include "daemon/cert/certificate.hpp"
#include "daemon/error.hpp"
#include "daemon/pcsc/scard_call.hpp"
#include "daemon/service/card_service.hpp"
#include "daemon/service/event_bus.hpp"
#include "tools/vcard/card_store.hpp"
#include "tools/vcard/virtual_card.hpp"

using namespace std::chrono_literals;
using inkan::Bytes;
using inkan::CardAgent;
using inkan::Error;
using inkan::ErrorCode;
using inkan::Outcome;
using inkan::Secret;
using inkan::pcsc::ReaderEvent;

namespace {

constexpr auto kReader = "Test Reader 00";
constexpr auto kTimeout = 20s;

// A temporary state directory for one virtual card, removed afterwards.
using inkan::test::TempDir;

// Plays pcscd + vpcd: reader events come from the test thread (standing in
// for the monitor thread), APDUs go to the virtual card while it is "inserted".
class FakeBackend final : public inkan::service::CardBackend {
public:
    explicit FakeBackend(inkan::vcard::VirtualCard& card) : card_(card) {}

    void start(inkan::pcsc::ReaderEventCallback onEvent) override { onEvent_ = std::move(onEvent); }
    void stop() override { stopped = true; }

    std::unique_ptr<inkan::pcsc::CardHandle> connect(const std::string& reader) override
    {
        const std::lock_guard lock(mutex_);
        if (reader != kReader || !present_) throw Error(ErrorCode::CardRemoved, "no card");
        return std::make_unique<Handle>(*this, insertion_);
    }

    // --- test controls ---------------------------------------------------------
    void pcscAvailable(bool available)
    {
        emit(available ? ReaderEvent::Kind::PcscAvailable : ReaderEvent::Kind::PcscUnavailable);
    }
    void addReader() { emit(ReaderEvent::Kind::ReaderAdded, kReader); }
    void insert()
    {
        {
            const std::lock_guard lock(mutex_);
            present_ = true;
            ++insertion_;
            card_.powerOn();
        }
        const auto atr = inkan::vcard::VirtualCard::atr();
        emit(ReaderEvent::Kind::CardInserted, kReader, Bytes(atr.begin(), atr.end()));
    }
    // The card leaves the reader; the event is published separately, as pcscd
    // may tell an application later than its next APDU fails.
    void pull()
    {
        {
            const std::lock_guard lock(mutex_);
            present_ = false;
            card_.powerOff();
        }
        gate_.notify_all();
    }
    void publishRemoval() { emit(ReaderEvent::Kind::CardRemoved, kReader); }

    // Hold the next APDU until release() (or pull()); waitUntilHeld() returns once it is held.
    void holdNextApdu()
    {
        const std::lock_guard lock(mutex_);
        hold_ = true;
    }
    void waitUntilHeld()
    {
        std::unique_lock lock(mutex_);
        REQUIRE(gate_.wait_for(lock, kTimeout, [this] { return held_; }));
    }
    void release()
    {
        {
            const std::lock_guard lock(mutex_);
            hold_ = false;
        }
        gate_.notify_all();
    }

    int resets() const { return resets_; }
    std::atomic<bool> stopped{false};

private:
    class Transaction final : public inkan::pcsc::CardTransaction {
    public:
        Transaction(FakeBackend& backend, int insertion) : backend_(backend), insertion_(insertion) {}
        ~Transaction() override
        {
            if (!reset_) return;
            const std::lock_guard lock(backend_.mutex_);
            if (backend_.present_) backend_.card_.reset();
            ++backend_.resets_;
        }
        void resetCardOnEnd() noexcept override { reset_ = true; }
        Bytes transmit(inkan::pcsc::ByteView command) override
        {
            std::unique_lock lock(backend_.mutex_);
            if (backend_.hold_) {
                backend_.held_ = true;
                backend_.gate_.notify_all();
                backend_.gate_.wait(lock, [this] { return !backend_.hold_ || !backend_.present_; });
                backend_.held_ = false;
            }
            if (!backend_.present_ || backend_.insertion_ != insertion_) {
                throw Error(ErrorCode::CardRemoved, "SCardTransmit: the card was removed");
            }
            return backend_.card_.transmit(command);
        }

    private:
        FakeBackend& backend_;
        int insertion_;
        bool reset_ = false;
    };

    class Handle final : public inkan::pcsc::CardHandle {
    public:
        Handle(FakeBackend& backend, int insertion) : backend_(backend), insertion_(insertion) {}
        std::unique_ptr<inkan::pcsc::CardTransaction> beginTransaction() override
        {
            const std::lock_guard lock(backend_.mutex_);
            if (!backend_.present_ || backend_.insertion_ != insertion_) {
                throw Error(ErrorCode::CardRemoved, "SCardBeginTransaction: the card was removed");
            }
            return std::make_unique<Transaction>(backend_, insertion_);
        }

    private:
        FakeBackend& backend_;
        int insertion_;
    };

    void emit(ReaderEvent::Kind kind, std::string reader = {}, Bytes atr = {})
    {
        onEvent_(ReaderEvent{kind, std::move(reader), std::move(atr)});
    }

    inkan::vcard::VirtualCard& card_;
    inkan::pcsc::ReaderEventCallback onEvent_;
    std::mutex mutex_;
    std::condition_variable gate_;
    bool present_ = false;
    int insertion_ = 0;
    bool hold_ = false;
    bool held_ = false;
    int resets_ = 0;
};

// Starts an operation and waits for its completion.
template <class T, class Start>
Outcome<T> await(Start&& start)
{
    auto promise = std::make_shared<std::promise<Outcome<T>>>();
    auto future = promise->get_future();
    start([promise](Outcome<T> outcome) { promise->set_value(std::move(outcome)); });
    REQUIRE(future.wait_for(kTimeout) == std::future_status::ready);
    return future.get();
}

template <class T>
T valueOf(Outcome<T> outcome)
{
    if (outcome.index() == 1) {
        try {
            std::rethrow_exception(std::get<1>(outcome));
        } catch (const std::exception& e) {
            FAIL("operation failed: ", e.what());
        }
    }
    return std::get<0>(std::move(outcome));
}

template <class T>
Error errorOf(const Outcome<T>& outcome)
{
    REQUIRE(outcome.index() == 1);
    try {
        std::rethrow_exception(std::get<1>(outcome));
    } catch (const Error& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("not an inkan::Error: ", e.what());
    }
    return Error(ErrorCode::Internal, "unreachable");
}

std::vector<inkan::CardSummary> listCards(CardAgent& agent)
{
    return valueOf(await<std::vector<inkan::CardSummary>>([&](auto done) { agent.cards(std::move(done)); }));
}

// The service reads a new card on its worker; wait until it is listed (or not).
void waitForCardCount(CardAgent& agent, std::size_t count)
{
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (listCards(agent).size() != count) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(10ms);
    }
}

bool verifySignature(const Bytes& certificateDer, const Bytes& digest, const Bytes& signature)
{
    const unsigned char* cursor = certificateDer.data();
    const std::unique_ptr<X509, decltype(&X509_free)> certificate(
        d2i_X509(nullptr, &cursor, static_cast<long>(certificateDer.size())), X509_free);
    REQUIRE(certificate);
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(X509_get_pubkey(certificate.get()), EVP_PKEY_free);
    REQUIRE(key);
    const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                               EVP_PKEY_CTX_free);
    REQUIRE(EVP_PKEY_verify_init(context.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(context.get(), EVP_sha256()) == 1);
    return EVP_PKEY_verify(context.get(), signature.data(), signature.size(), digest.data(), digest.size()) == 1;
}

// A fresh card of its own for each test: a copy of the run's generated card.
inkan::vcard::CardStore openStore(const std::filesystem::path& stateDir)
{
    std::filesystem::copy(inkan::test::generatedCardState(), stateDir, std::filesystem::copy_options::recursive);
    inkan::vcard::StoreOptions options;
    options.stateDir = stateDir;
    return inkan::vcard::CardStore::open(options);
}

// Everything one test needs: a virtual card, the fake backend, the service.
struct Fixture {
    Fixture()
        : store(openStore(dir.path / "card")), card(store), backend(std::make_shared<FakeBackend>(card))
    {
        inkan::service::CardServiceOptions options;
        options.backend = backend;
        options.log = [this](std::string_view line) {
            const std::lock_guard lock(logMutex);
            log.emplace_back(line);
        };
        options.events = events;
        options.now = [this] {
            const std::lock_guard lock(clockMutex);
            return now.value_or(std::chrono::system_clock::now());
        };
        agent = inkan::service::makeCardService(std::move(options));
        backend->pcscAvailable(true);
        backend->addReader();
    }

    ~Fixture() { agent->shutdown(); }

    std::string expectedCardId() const { return inkan::card::ReferenceCard::cardIdForSerial(store.serial()); }

    std::string insertAndRead()
    {
        backend->insert();
        waitForCardCount(*agent, 1);
        return listCards(*agent).front().id;
    }

    TempDir dir;
    inkan::vcard::CardStore store;
    inkan::vcard::VirtualCard card;
    std::shared_ptr<FakeBackend> backend;
    std::unique_ptr<CardAgent> agent;
    std::mutex logMutex;
    std::vector<std::string> log;
    // Every event since the service started: resume from before the first.
    std::shared_ptr<inkan::service::EventBus> events = std::make_shared<inkan::service::EventBus>(eventOptions());
    std::unique_ptr<inkan::service::Subscription> subscription = events->subscribe(std::nullopt, {});
    std::mutex clockMutex;
    std::optional<std::chrono::system_clock::time_point> now;  // the service's clock; unset: the system's

    static inkan::service::EventBusOptions eventOptions()
    {
        inkan::service::EventBusOptions options;
        options.firstId = 1;
        options.subscriberQueue = 1000;
        return options;
    }

    void setNow(std::chrono::system_clock::time_point time)
    {
        const std::lock_guard lock(clockMutex);
        now = time;
    }

    /// The events published since the last call, as "type data" lines.
    std::vector<std::string> takeEvents()
    {
        std::vector<std::string> lines;
        for (const auto& event : subscription->take().events) lines.push_back(event->type + " " + event->data);
        return lines;
    }

    /// Events until one of `type` has arrived (the card is read on its worker).
    std::vector<std::string> eventsUntil(std::string_view type)
    {
        std::vector<std::string> lines;
        const auto deadline = std::chrono::steady_clock::now() + kTimeout;
        while (true) {
            for (auto& line : takeEvents()) lines.push_back(std::move(line));
            for (const auto& line : lines) {
                if (line.starts_with(std::string(type) + " ")) return lines;
            }
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(5ms);
        }
    }
};

const Bytes kDigest(32, 0x5C);

}  // namespace

TEST_SUITE("card service")
{
    TEST_CASE("an inserted card is read once and listed with its certificates and PIN status")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        const auto cards = listCards(*f.agent);
        REQUIRE(cards.size() == 1);
        const auto& card = cards.front();
        CHECK(card.id == f.expectedCardId());
        CHECK(card.id == id);
        CHECK(card.reader == kReader);
        CHECK(card.profile == "inkan-reference");
        CHECK_FALSE(card.label.empty());
        CHECK(card.defaultPin().status.triesLeft == 10);
        CHECK(card.defaultPin().status.maxTries == 10);
        CHECK_FALSE(card.defaultPin().status.blocked);
        REQUIRE(card.certificates.size() == 2);
        CHECK(card.certificates[0].id == "sign");
        CHECK(card.certificates[0].der == f.store.signingCertificate());
        CHECK(card.certificates[1].id == "ca");

        const auto status = valueOf(await<inkan::AgentStatus>([&](auto done) { f.agent->status(std::move(done)); }));
        CHECK(status.pcscAvailable);
        REQUIRE(status.readers.size() == 1);
        CHECK(status.readers[0].name == kReader);
        CHECK(status.readers[0].cardPresent);
        CHECK(status.readers[0].cardId == std::optional<std::string>(id));
        CHECK(status.readers[0].atr == std::optional<std::string>("3B888001494E4B414E5643316E"));
    }

    TEST_CASE("certificate() answers from the cache and unknown ids are CardNotFound / NotFound")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        const auto ca = valueOf(await<inkan::CertificateSummary>(
            [&](auto done) { f.agent->certificate(id, "ca", std::move(done)); }));
        CHECK(ca.der == *f.store.caCertificate());

        CHECK(errorOf(await<inkan::CertificateSummary>([&](auto done) {
                  f.agent->certificate(id, "nope", std::move(done));
              })).code()
              == ErrorCode::NotFound);
        CHECK(errorOf(await<inkan::CardSummary>([&](auto done) { f.agent->card("0000000000000000", std::move(done)); }))
                  .code()
              == ErrorCode::CardNotFound);
        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus("0000000000000000", "user", std::move(done)); }))
                  .code()
              == ErrorCode::CardNotFound);
    }

    TEST_CASE("a wrong PIN reports the tries left and updates the cached PIN status")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        const auto wrong = errorOf(await<inkan::PinStatus>(
            [&](auto done) { f.agent->verifyPin(id, "user", Secret("9999"), {}, std::move(done)); }));
        CHECK(wrong.code() == ErrorCode::PinIncorrect);
        CHECK(wrong.triesLeft == std::optional<int>(9));
        CHECK(listCards(*f.agent).front().defaultPin().status.triesLeft == 9);

        const auto asked = valueOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); }));
        CHECK(asked.triesLeft == 9);

        const auto right = valueOf(await<inkan::PinStatus>(
            [&](auto done) { f.agent->verifyPin(id, "user", Secret("1234"), {}, std::move(done)); }));
        CHECK(right.triesLeft == 10);
        CHECK(listCards(*f.agent).front().defaultPin().status.triesLeft == 10);
    }

    TEST_CASE("a malformed PIN is refused without spending a try")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("12"), {}, std::move(done)); }))
                  .code()
              == ErrorCode::PinFormat);
        CHECK(f.store.triesLeft(inkan::vcard::PinReference::User) == 10);
    }

    TEST_CASE("sign without a PIN needs one; with the PIN it signs with the signing certificate's key")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        inkan::SignRequest withoutPin;
        withoutPin.digest = kDigest;
        CHECK(errorOf(await<inkan::SignResult>([&](auto done) { f.agent->sign(id, std::move(withoutPin), {}, std::move(done)); }))
                  .code()
              == ErrorCode::PinRequired);

        inkan::SignRequest request;
        request.digest = kDigest;
        request.pin = Secret("1234");
        const auto result =
            valueOf(await<inkan::SignResult>([&](auto done) { f.agent->sign(id, std::move(request), {}, std::move(done)); }));
        CHECK(result.signatureAlgorithm == "RSASSA-PKCS1-v1_5-SHA-256");
        CHECK(result.certificateId == "sign");
        CHECK(result.certificate == f.store.signingCertificate());
        CHECK(result.signature.size() == 256);
        CHECK(verifySignature(result.certificate, kDigest, result.signature));
    }

    TEST_CASE("sign refuses the CA certificate, unknown certificates and wrong digest lengths")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        const auto signWith = [&](std::optional<std::string> certificateId, Bytes digest) {
            inkan::SignRequest request;
            request.certificateId = std::move(certificateId);
            request.digest = std::move(digest);
            request.pin = Secret("1234");
            return errorOf(
                await<inkan::SignResult>([&](auto done) { f.agent->sign(id, std::move(request), {}, std::move(done)); }));
        };

        CHECK(signWith("ca", kDigest).code() == ErrorCode::BadRequest);
        CHECK(signWith("other", kDigest).code() == ErrorCode::NotFound);
        CHECK(signWith(std::nullopt, Bytes(20, 1)).code() == ErrorCode::BadRequest);
        CHECK(f.store.triesLeft(inkan::vcard::PinReference::User) == 10);
    }

    TEST_CASE("change and unblock: a blocked PIN is reported and the unblock code restores it")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        const auto verify = [&](const char* pin) {
            return await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret(pin), {}, std::move(done)); });
        };

        CHECK(valueOf(await<inkan::PinStatus>([&](auto done) {
                  f.agent->changePin(id, "user", Secret("1234"), Secret("24680"), {}, std::move(done));
              })).triesLeft
              == 10);
        for (int i = 0; i < 9; ++i) CHECK(errorOf(verify("1234")).code() == ErrorCode::PinIncorrect);
        CHECK(errorOf(verify("1234")).code() == ErrorCode::PinBlocked);
        CHECK(errorOf(verify("24680")).code() == ErrorCode::PinBlocked);
        CHECK(listCards(*f.agent).front().defaultPin().status.blocked);

        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) {
                  f.agent->unblockPin(id, "user", Secret("87654321"), Secret("1234"), {}, std::move(done));
              })).code()
              == ErrorCode::UnblockCodeIncorrect);
        const auto unblocked = valueOf(await<inkan::PinStatus>([&](auto done) {
            f.agent->unblockPin(id, "user", Secret("12345678"), Secret("1234"), {}, std::move(done));
        }));
        CHECK(unblocked.triesLeft == 10);
        CHECK_FALSE(listCards(*f.agent).front().defaultPin().status.blocked);
        CHECK(valueOf(verify("1234")).triesLeft == 10);
    }

    TEST_CASE("a card pulled mid-operation fails the running and the queued operations with CardRemoved")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        f.backend->holdNextApdu();
        auto running = std::make_shared<std::promise<Outcome<inkan::PinStatus>>>();
        auto queued = std::make_shared<std::promise<Outcome<inkan::PinStatus>>>();
        f.agent->pinStatus(id, "user", [running](Outcome<inkan::PinStatus> o) { running->set_value(std::move(o)); });
        f.backend->waitUntilHeld();
        f.agent->pinStatus(id, "user", [queued](Outcome<inkan::PinStatus> o) { queued->set_value(std::move(o)); });

        f.backend->pull();
        f.backend->publishRemoval();

        auto runningResult = running->get_future();
        auto queuedResult = queued->get_future();
        REQUIRE(runningResult.wait_for(kTimeout) == std::future_status::ready);
        REQUIRE(queuedResult.wait_for(kTimeout) == std::future_status::ready);
        CHECK(errorOf(runningResult.get()).code() == ErrorCode::CardRemoved);
        CHECK(errorOf(queuedResult.get()).code() == ErrorCode::CardRemoved);
        CHECK(listCards(*f.agent).empty());
        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); })).code()
              == ErrorCode::CardNotFound);
    }

    TEST_CASE("a re-inserted card is read again and keeps its id")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        f.backend->pull();
        f.backend->publishRemoval();
        waitForCardCount(*f.agent, 0);
        const auto status = valueOf(await<inkan::AgentStatus>([&](auto done) { f.agent->status(std::move(done)); }));
        REQUIRE(status.readers.size() == 1);
        CHECK_FALSE(status.readers[0].cardPresent);
        CHECK_FALSE(status.readers[0].cardId.has_value());

        CHECK(f.insertAndRead() == id);
        CHECK(valueOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); })).triesLeft
              == 10);
    }

    TEST_CASE("while PC/SC is down card operations fail with PcscUnavailable, and recover when it returns")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        // What the monitor publishes when pcscd dies.
        f.backend->pcscAvailable(false);
        f.backend->pull();
        f.backend->publishRemoval();

        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); })).code()
              == ErrorCode::PcscUnavailable);
        CHECK_FALSE(valueOf(await<inkan::AgentStatus>([&](auto done) { f.agent->status(std::move(done)); })).pcscAvailable);

        f.backend->pcscAvailable(true);
        CHECK(f.insertAndRead() == id);
        CHECK(valueOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); })).triesLeft
              == 10);
    }

    TEST_CASE("completions run once, off the caller's thread")
    {
        Fixture f;
        const auto id = f.insertAndRead();

        std::atomic<int> calls{0};
        std::promise<std::thread::id> where;
        f.agent->pinStatus(id, "user", [&](Outcome<inkan::PinStatus>) {
            if (calls++ == 0) where.set_value(std::this_thread::get_id());
        });
        auto future = where.get_future();
        REQUIRE(future.wait_for(kTimeout) == std::future_status::ready);
        CHECK(future.get() != std::this_thread::get_id());
        f.agent->shutdown();
        CHECK(calls == 1);
    }

    TEST_CASE("after shutdown every call completes with Busy and the backend is stopped")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        f.agent->shutdown();

        CHECK(f.backend->stopped);
        const auto e = errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); }));
        CHECK(e.code() == ErrorCode::Busy);
        CHECK(errorOf(await<inkan::AgentStatus>([&](auto done) { f.agent->status(std::move(done)); })).code()
              == ErrorCode::Busy);
    }

    TEST_CASE("logs name operations and outcomes but never PINs")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        (void)await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("97531"), {}, std::move(done)); });
        f.agent->shutdown();

        const std::lock_guard lock(f.logMutex);
        bool sawVerify = false;
        for (const auto& line : f.log) {
            CHECK(line.find("97531") == std::string::npos);
            sawVerify |= line.find("verify PIN (user): failed: PIN_INCORRECT") != std::string::npos;
        }
        CHECK(sawVerify);
    }
}

namespace doctest {
// Event lists print one event per line when a check fails.
template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& lines)
    {
        std::string text = "\n";
        for (const auto& line : lines) text += "  " + line + "\n";
        return String(text.c_str());
    }
};
}  // namespace doctest

TEST_SUITE("card service events")
{
    using Lines = std::vector<std::string>;

    TEST_CASE("PC/SC, the reader and the card announce themselves; card-inserted comes once the card is read")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        const auto lines = f.eventsUntil("card-inserted");
        CHECK(lines == Lines{
                           "pcsc-available {}",
                           "reader-added {\"reader\":\"Test Reader 00\"}",
                           "card-inserted {\"reader\":\"Test Reader 00\",\"atr\":\"3B888001494E4B414E5643316E\","
                           "\"supported\":true,\"cardId\":\"" + id + "\",\"profile\":\"inkan-reference\",\"label\":\""
                               + listCards(*f.agent).front().label + "\"}",
                       });

        f.backend->pull();
        f.backend->publishRemoval();
        CHECK(f.eventsUntil("card-removed") == Lines{"card-removed {\"reader\":\"Test Reader 00\",\"cardId\":\"" + id + "\"}"});

        f.backend->pcscAvailable(false);
        CHECK(f.takeEvents() == Lines{"pcsc-unavailable {}"});
    }

    TEST_CASE("every PIN operation announces the PIN status; running out of tries announces pin-blocked once")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        (void)f.eventsUntil("card-inserted");
        const auto status = [&](int triesLeft, const char* operation, bool blocked = false) {
            return "pin-status {\"cardId\":\"" + id + "\",\"pinId\":\"user\",\"operation\":\"" + operation + "\",\"triesLeft\":"
                + std::to_string(triesLeft) + ",\"maxTries\":10,\"blocked\":" + (blocked ? "true" : "false") + "}";
        };
        const auto verify = [&](const char* pin) {
            return await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret(pin), {}, std::move(done)); });
        };

        CHECK(errorOf(verify("9999")).code() == ErrorCode::PinIncorrect);
        CHECK(f.takeEvents() == Lines{status(9, "verify")});

        (void)valueOf(await<inkan::PinStatus>([&](auto done) {
            f.agent->changePin(id, "user", Secret("1234"), Secret("2468"), {}, std::move(done));
        }));
        CHECK(f.takeEvents() == Lines{status(10, "change")});

        // A status query announces only a change (nothing changed here).
        (void)valueOf(await<inkan::PinStatus>([&](auto done) { f.agent->pinStatus(id, "user", std::move(done)); }));
        CHECK(f.takeEvents().empty());

        for (int i = 0; i < 9; ++i) (void)verify("9999");
        (void)f.takeEvents();
        CHECK(errorOf(verify("9999")).code() == ErrorCode::PinBlocked);
        CHECK(f.takeEvents() == Lines{status(0, "verify", true), "pin-blocked {\"cardId\":\"" + id + "\",\"pinId\":\"user\"}"});
        CHECK(errorOf(verify("2468")).code() == ErrorCode::PinBlocked);
        CHECK(f.takeEvents() == Lines{status(0, "verify", true)});  // still blocked: no second pin-blocked

        (void)valueOf(await<inkan::PinStatus>([&](auto done) {
            f.agent->unblockPin(id, "user", Secret("12345678"), Secret("1234"), {}, std::move(done));
        }));
        CHECK(f.takeEvents() == Lines{status(10, "unblock")});

        const auto signature = await<inkan::SignResult>([&](auto done) {
            f.agent->sign(id, inkan::SignRequest{std::nullopt, kDigest, inkan::DigestAlgorithm::Sha256, Secret("1234")},
                          {}, std::move(done));
        });
        (void)valueOf(signature);
        CHECK(f.takeEvents() == Lines{status(10, "sign")});
    }

    TEST_CASE("the PIN check sees the card's counter inside the operation; its refusal spends and announces nothing")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        (void)f.eventsUntil("card-inserted");
        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("9999"), {}, std::move(done)); }))
                  .code()
              == ErrorCode::PinIncorrect);
        (void)f.takeEvents();

        std::vector<int> seen;
        // A refusal that reads like a card's verdict: still the check's, so no refresh and no event.
        const inkan::PinCheck refuse = [&](const inkan::PinStatus& status) {
            seen.push_back(status.triesLeft);
            throw Error(ErrorCode::PinBlocked, "refused by the check");
        };
        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("1234"), refuse, std::move(done)); }))
                  .code()
              == ErrorCode::PinBlocked);
        CHECK(errorOf(await<inkan::SignResult>([&](auto done) {
                  f.agent->sign(id, inkan::SignRequest{std::nullopt, kDigest, inkan::DigestAlgorithm::Sha256, Secret("1234")},
                                refuse, std::move(done));
              })).code()
              == ErrorCode::PinBlocked);
        CHECK(errorOf(await<inkan::PinStatus>([&](auto done) {
                  f.agent->unblockPin(id, "user", Secret("12345678"), Secret("1234"), refuse, std::move(done));
              })).code()
              == ErrorCode::PinBlocked);
        CHECK(seen == std::vector<int>{9, 9, 10});  // the PIN's counter twice, then the unblock code's
        CHECK(f.store.triesLeft(inkan::vcard::PinReference::User) == 9);
        CHECK(f.takeEvents().empty());
    }

    TEST_CASE("endPinVerification resets the card: a PIN verified before no longer signs")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        const auto verify = [&] {
            (void)valueOf(await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("1234"), {}, std::move(done)); }));
        };
        const auto signWithoutPin = [&] {
            return await<inkan::SignResult>([&](auto done) {
                f.agent->sign(id, inkan::SignRequest{std::nullopt, kDigest, inkan::DigestAlgorithm::Sha256, std::nullopt}, {},
                              std::move(done));
            });
        };
        verify();
        (void)valueOf(signWithoutPin());  // control: the verification signs

        verify();
        (void)valueOf(await<std::monostate>([&](auto done) { f.agent->endPinVerification(id, std::move(done)); }));
        CHECK(errorOf(signWithoutPin()).code() == ErrorCode::PinRequired);
    }

    TEST_CASE("a card inserted with a blocked PIN announces pin-blocked with it")
    {
        Fixture f;
        const auto id = f.insertAndRead();
        for (int i = 0; i < 10; ++i) {
            (void)await<inkan::PinStatus>([&](auto done) { f.agent->verifyPin(id, "user", Secret("9999"), {}, std::move(done)); });
        }
        f.backend->pull();
        f.backend->publishRemoval();
        (void)f.eventsUntil("card-removed");

        f.backend->insert();
        const auto lines = f.eventsUntil("pin-blocked");
        REQUIRE(lines.size() == 3);
        CHECK(lines[0].starts_with("card-inserted {"));
        CHECK(lines[1].starts_with("pin-status {\"cardId\":\"" + id + "\",\"pinId\":\"user\",\"operation\":\"status\",\"triesLeft\":0"));
        CHECK(lines[2] == "pin-blocked {\"cardId\":\"" + id + "\",\"pinId\":\"user\"}");
    }

    TEST_CASE("a certificate near its end is announced as expiring on insertion, one past it as expired")
    {
        using namespace std::chrono;
        Fixture f;
        const auto signing = inkan::cert::parseCertificate(f.store.signingCertificate());

        f.setNow(signing.notAfterTime - days(10) - hours(1));
        const auto id = f.insertAndRead();
        auto lines = f.eventsUntil("certificate-expiring");
        CHECK(lines.back() == "certificate-expiring {\"cardId\":\"" + id + "\",\"certificateId\":\"sign\",\"notAfter\":\""
                                  + signing.notAfter + "\",\"daysLeft\":10}");

        f.backend->pull();
        f.backend->publishRemoval();
        (void)f.eventsUntil("card-removed");
        f.setNow(signing.notAfterTime + days(3) + hours(1));
        f.backend->insert();
        lines = f.eventsUntil("certificate-expired");
        const auto expired = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
            return line.starts_with("certificate-expired {") && line.find("\"certificateId\":\"sign\"") != std::string::npos;
        });
        REQUIRE(expired != lines.end());
        CHECK(expired->find("\"daysLeft\":-4") != std::string::npos);

        // Far from its end, a certificate is not announced at all.
        f.backend->pull();
        f.backend->publishRemoval();
        (void)f.eventsUntil("card-removed");
        f.setNow(signing.notBeforeTime + days(1));
        f.backend->insert();
        lines = f.eventsUntil("card-inserted");
        std::this_thread::sleep_for(50ms);
        for (const auto& line : f.takeEvents()) lines.push_back(line);
        for (const auto& line : lines) CHECK_FALSE(line.starts_with("certificate-"));
    }
}
