#include "daemon/service/card_service.hpp"

#include <chrono>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/card/profiles.hpp"
#include "daemon/card/token.hpp"
#include "daemon/cert/certificate.hpp"
#include "daemon/error.hpp"
#include "daemon/pcsc/apdu_channel.hpp"
#include "daemon/pcsc/bytes.hpp"
#include "daemon/pcsc/scard_call.hpp"
#include "daemon/service/card_events.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/service/completion_task.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::service {

namespace {

using Clock = std::chrono::steady_clock;

Error shuttingDown() { return Error(ErrorCode::Busy, "inkand is shutting down"); }
std::exception_ptr shuttingDownError() { return std::make_exception_ptr(shuttingDown()); }

// The card (or the way to it) is gone: the connection is useless now.
bool connectionLost(ErrorCode code)
{
    return code == ErrorCode::CardRemoved || code == ErrorCode::ReaderUnavailable || code == ErrorCode::PcscUnavailable;
}

// What the card said about a PIN: its counter has changed (or may have).
bool isPinVerdict(ErrorCode code)
{
    return code == ErrorCode::PinIncorrect || code == ErrorCode::PinBlocked || code == ErrorCode::UnblockCodeIncorrect
        || code == ErrorCode::UnblockCodeBlocked || code == ErrorCode::PinRequired;
}

// A task without a caller waiting for it (reading a newly inserted card).
template <class Body>
class BackgroundTask final : public Worker::Task {
public:
    explicit BackgroundTask(Body body) : body_(std::move(body)) {}
    void run() override { body_(); }
    void fail(std::exception_ptr) noexcept override {}

private:
    Body body_;
};

// Hands a task its worker refused to another thread, which fails it there.
class RefusedTask final : public Worker::Task {
public:
    RefusedTask(std::unique_ptr<Worker::Task> task, Error reason) : task_(std::move(task)), reason_(std::move(reason)) {}
    void run() override { task_->fail(std::make_exception_ptr(reason_)); }
    void fail(std::exception_ptr reason) noexcept override { task_->fail(std::move(reason)); }

private:
    std::unique_ptr<Worker::Task> task_;
    Error reason_;
};

std::string milliseconds(Clock::duration duration)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) + " ms";
}

std::string describe(const std::exception& e)
{
    if (const auto* error = dynamic_cast<const Error*>(&e)) {
        return std::string(errorCodeName(error->code())) + " (" + e.what() + ")";
    }
    return std::string("INTERNAL (") + e.what() + ")";
}

class CardService final : public CardAgent {
public:
    explicit CardService(CardServiceOptions options)
        : options_(std::move(options)), backend_(options_.backend ? options_.backend : makePcscBackend()),
          events_(options_.events, options_.certificateExpiryWarningDays)
    {
    }

    ~CardService() override { shutdown(); }

    CardService(const CardService&) = delete;
    CardService& operator=(const CardService&) = delete;

    void start()
    {
        backend_->start([this](const pcsc::ReaderEvent& event) { onReaderEvent(event); });
    }

    void status(Completion<AgentStatus> done) override
    {
        answerNow<AgentStatus>([this] { return currentStatus(); }, std::move(done));
    }

    void cards(Completion<std::vector<CardSummary>> done) override
    {
        answerNow<std::vector<CardSummary>>(
            [this] {
                const std::lock_guard lock(mutex_);
                std::vector<CardSummary> result;
                for (const auto& [name, reader] : readers_) {
                    if (reader.card && reader.card->summary) result.push_back(*reader.card->summary);
                }
                return result;
            },
            std::move(done));
    }

    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        answer<CardSummary>(
            [this, cardId] {
                const std::lock_guard lock(mutex_);
                const auto found = findCard(cardId);
                if (!found) throw missingCard();
                return *found->summary;
            },
            std::move(done));
    }

    void certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done) override
    {
        answer<CertificateSummary>(
            [this, cardId, certId] {
                const std::lock_guard lock(mutex_);
                const auto found = findCard(cardId);
                if (!found) throw missingCard();
                for (const auto& certificate : found->summary->certificates) {
                    if (certificate.id == certId) return certificate;
                }
                throw Error(ErrorCode::NotFound, "the card has no certificate with this id");
            },
            std::move(done));
    }

    void pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override
    {
        submit<PinStatus>(
            cardId, "PIN status (" + pinId + ")",
            [this, pinId](Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction&) {
                const auto status = card.token->pinStatus(channel, pinId);
                setPin(card, pinId, status, PinOperation::Status);
                return status;
            },
            std::move(done));
    }

    void unblockCodeStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override
    {
        submit<PinStatus>(
            cardId, "unblock code status (" + pinId + ")",
            [pinId](Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction&) {
                return card.token->unblockCodeStatus(channel, pinId);
            },
            std::move(done));
    }

    void verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                   Completion<PinStatus> done) override
    {
        submit<PinStatus>(
            cardId, "verify PIN (" + pinId + (pin.isOnPinpad() ? ", PIN pad)" : ")"),
            [this, pinId, pin = std::move(pin), check = std::move(check)](Card& card, pcsc::ApduChannel& channel,
                                                                          pcsc::CardTransaction&) {
                auto status = pinOperation(card, channel, pinId, PinOperation::Verify, check, [&](const PinCheck& watched) {
                    return card.token->verifyPin(channel, pinId, pin, watched);
                });
                readUnlockedCertificates(card, channel, pinId);
                return status;
            },
            std::move(done));
    }

    void changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin, PinCheck check,
                   Completion<PinStatus> done) override
    {
        submit<PinStatus>(
            cardId, "change PIN (" + pinId + (pin.isOnPinpad() ? ", PIN pad)" : ")"),
            [this, pinId, pin = std::move(pin), newPin = std::move(newPin), check = std::move(check)](
                Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction&) {
                return pinOperation(card, channel, pinId, PinOperation::Change, check, [&](const PinCheck& watched) {
                    return card.token->changePin(channel, pinId, pin, newPin, watched);
                });
            },
            std::move(done));
    }

    void unblockPin(const std::string& cardId, const std::string& pinId, PinInput unblockCode, PinInput newPin,
                    PinCheck check, Completion<PinStatus> done) override
    {
        submit<PinStatus>(
            cardId, "unblock PIN (" + pinId + (unblockCode.isOnPinpad() ? ", PIN pad)" : ")"),
            [this, pinId, unblockCode = std::move(unblockCode), newPin = std::move(newPin), check = std::move(check)](
                Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction&) {
                return pinOperation(card, channel, pinId, PinOperation::Unblock, check, [&](const PinCheck& watched) {
                    return card.token->unblockPin(channel, pinId, unblockCode, newPin, watched);
                });
            },
            std::move(done));
    }

    void sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done) override
    {
        const char* what = !request.pin                  ? "sign (without PIN)"
                           : request.pin->isOnPinpad() ? "sign (PIN pad)"
                                                       : "sign (with PIN)";
        submit<SignResult>(
            cardId, what,
            [this, request = std::move(request), check = std::move(check)](
                Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction& transaction) {
                return signOnCard(card, channel, transaction, request, check);
            },
            std::move(done));
    }

    void endPinVerification(const std::string& cardId, Completion<std::monostate> done) override
    {
        submit<std::monostate>(
            cardId, "end PIN verification (reset)",
            [](Card&, pcsc::ApduChannel&, pcsc::CardTransaction& transaction) {
                // Nothing to send: resetting the card clears its security status.
                transaction.resetCardOnEnd();
                return std::monostate{};
            },
            std::move(done));
    }

    void shutdown() override
    {
        {
            const std::lock_guard lock(mutex_);
            if (shuttingDown_) return;
            shuttingDown_ = true;
        }
        backend_->stop();  // no reader events after this

        std::vector<std::shared_ptr<Card>> cards;
        {
            const std::lock_guard lock(mutex_);
            for (auto& [name, reader] : readers_) {
                if (reader.card) cards.push_back(std::move(reader.card));
            }
            readers_.clear();
            cards.insert(cards.end(), retired_.begin(), retired_.end());
            retired_.clear();
            pcscAvailable_ = false;
        }
        const auto reason = shuttingDown();
        for (const auto& card : cards) card->worker.retire(reason);
        for (const auto& card : cards) card->worker.join();  // running operations finish
        dispatcher_.retire(reason);
        dispatcher_.join();
        // Destroyed with the service: a worker that called shutdown() from one
        // of its own completions is still running until that returns.
        stopped_ = std::move(cards);
        log("card service stopped");
    }

private:
    // One inserted card of a supported profile.
    struct Card {
        Card(std::string readerName, Bytes cardAtr, std::unique_ptr<card::Token> cardToken)
            : reader(std::move(readerName)), atr(std::move(cardAtr)), token(std::move(cardToken)),
              worker([this] { handle.reset(); })
        {
        }

        const std::string reader;
        const Bytes atr;
        const std::unique_ptr<const card::Token> token;
        std::unique_ptr<pcsc::CardHandle> handle;  // used on the worker thread only
        std::optional<CardSummary> summary;        // guarded by CardService::mutex_; set once read
        Worker worker;                             // last: its thread uses the fields above
    };

    struct Reader {
        bool cardPresent = false;
        Bytes atr;
        std::shared_ptr<Card> card;  // a card of a supported profile
    };

    struct CardContents {
        card::CardIdentity identity;
        std::vector<card::TokenCertificate> certificates;
        std::vector<PinStatus> pins;  // in the order of Token::pins()
    };

    struct CertificateExpiry {
        std::string certificateId;
        std::string notAfter;
        cert::Expiry expiry;
    };

    std::chrono::system_clock::time_point now() const
    {
        return options_.now ? options_.now() : std::chrono::system_clock::now();
    }

    // --- Registry answers ------------------------------------------------------

    // Runs `body` on the dispatch thread and completes with its result.
    template <class T, class Body>
    void answer(Body body, Completion<T> done)
    {
        auto task = makeCompletionTask<T>(std::move(body), std::move(done));
        bool refuse = false;
        {
            const std::lock_guard lock(mutex_);
            refuse = shuttingDown_;
        }
        if (!refuse) task = dispatcher_.post(std::move(task));
        if (task) task->fail(shuttingDownError());
    }

    // Runs `body` (a copy out of the registry under its lock: short, never
    // waiting for a card) on the caller's thread and completes there. The
    // listings are asked for on every page load and poll: a round trip
    // through the dispatch thread cost more than the copy.
    template <class T, class Body>
    void answerNow(Body body, Completion<T> done)
    {
        auto task = makeCompletionTask<T>(std::move(body), std::move(done));
        bool refuse = false;
        {
            const std::lock_guard lock(mutex_);
            refuse = shuttingDown_;
        }
        if (refuse) return task->fail(shuttingDownError());
        task->run();
    }

    AgentStatus currentStatus()
    {
        const std::lock_guard lock(mutex_);
        AgentStatus status;
        status.pcscAvailable = pcscAvailable_;
        for (const auto& [name, reader] : readers_) {
            ReaderSummary summary;
            summary.name = name;
            summary.cardPresent = reader.cardPresent;
            if (reader.cardPresent) summary.atr = pcsc::toHex(reader.atr);
            if (reader.card && reader.card->summary) {
                summary.cardId = reader.card->summary->id;
                summary.pinpad = reader.card->summary->pinpad;
            }
            status.readers.push_back(std::move(summary));
        }
        return status;
    }

    // A card that has been read, by id. Caller holds mutex_.
    std::shared_ptr<Card> findCard(const std::string& cardId) const
    {
        for (const auto& [name, reader] : readers_) {
            if (reader.card && reader.card->summary && reader.card->summary->id == cardId) return reader.card;
        }
        return nullptr;
    }

    // Why a card id finds nothing. Caller holds mutex_. The id is not echoed:
    // it comes from the request.
    Error missingCard() const
    {
        if (!pcscAvailable_) return Error(ErrorCode::PcscUnavailable, "the PC/SC service (pcscd) is not running");
        return Error(ErrorCode::CardNotFound, "no card with this id is present");
    }

    // --- Card operations -------------------------------------------------------

    template <class T, class Body>
    void submit(const std::string& cardId, std::string operation, Body body, Completion<T> done)
    {
        std::shared_ptr<Card> card;
        std::optional<Error> refusal;
        {
            const std::lock_guard lock(mutex_);
            if (shuttingDown_) {
                refusal = shuttingDown();
            } else if (!(card = findCard(cardId))) {
                refusal = missingCard();
            }
        }
        if (refusal) {
            // Thrown as a copy, so the completion owns its exception object.
            answer<T>([refusal = std::move(*refusal)]() -> T { throw refusal; }, std::move(done));
            return;
        }
        // The card outlives every task of its worker (its destructor joins
        // the worker), so the task can hold it by reference.
        Card& target = *card;
        auto task = makeCompletionTask<T>(
            [this, &target, operation = std::move(operation), body = std::move(body)]() mutable -> T {
                return runOperation<T>(target, operation, body);
            },
            std::move(done));
        if (auto refused = card->worker.post(std::move(task))) {
            // The card was removed between the lookup and now.
            auto reason = card->worker.retireReason();
            if (auto again = dispatcher_.post(std::make_unique<RefusedTask>(std::move(refused), reason))) {
                again->run();
            }
        }
    }

    template <class T, class Body>
    T runOperation(Card& card, const std::string& operation, Body& body)
    {
        const auto started = Clock::now();
        const auto name = cardName(card);
        try {
            T result = withTransaction(card, [&](pcsc::ApduChannel& channel, pcsc::CardTransaction& transaction) {
                return body(card, channel, transaction);
            });
            log(name + ": " + operation + ": ok (" + milliseconds(Clock::now() - started) + ")");
            return result;
        } catch (const std::exception& e) {
            log(name + ": " + operation + ": failed: " + describe(e));
            throw;
        }
    }

    // Runs `work` in one transaction on the card, connecting first when needed.
    template <class Work>
    auto withTransaction(Card& card, Work&& work)
    {
        for (int attempt = 0;; ++attempt) {
            try {
                if (!card.handle) card.handle = backend_->connect(card.reader);
                const auto transaction = card.handle->beginTransaction();
                pcsc::ApduChannel channel(*transaction);
                return work(channel, *transaction);
            } catch (const pcsc::CardResetError&) {
                // Another application reset the card in the middle of our
                // operation; the reset reached the card before our command did,
                // so starting over once is safe (the connection has been
                // re-established already).
                if (attempt > 0) throw;
                log(cardName(card) + ": the card was reset by another application; starting over");
            } catch (const Error& e) {
                if (connectionLost(e.code())) card.handle.reset();
                throw;
            }
        }
    }

    // The caller's check, noting whether it refused: its refusal (the PIN
    // guard's) is not the card's verdict, and nothing on the card changed.
    static PinCheck watch(const PinCheck& check, bool& refused)
    {
        if (!check) return {};
        return [&check, &refused](const PinStatus& status) {
            try {
                check(status);
            } catch (...) {
                refused = true;
                throw;
            }
        };
    }

    template <class Operation>
    PinStatus pinOperation(Card& card, pcsc::ApduChannel& channel, const std::string& pinId, PinOperation kind,
                           const PinCheck& check, Operation&& operation)
    {
        bool refusedByCheck = false;
        try {
            const auto status = operation(watch(check, refusedByCheck));
            setPin(card, pinId, status, kind);
            return status;
        } catch (const Error& e) {
            if (!refusedByCheck && isPinVerdict(e.code())) refreshPin(card, channel, pinId, kind);
            throw;
        }
    }

    // Right after `pinId` was verified, in the same transaction: the
    // certificates the card shows only now are read, once per insertion.
    void readUnlockedCertificates(Card& card, pcsc::ApduChannel& channel, const std::string& pinId)
    {
        for (const auto& locked : card.token->protectedCertificates()) {
            if (locked.pinId != pinId || cachedCertificate(card, locked.certificateId)) continue;
            auto read = card.token->readProtectedCertificate(channel, locked.certificateId);
            std::vector<CertificateExpiry> expiries;
            auto entry = describeCertificate(card, std::move(read), expiries);
            const std::lock_guard lock(mutex_);
            if (!card.summary) return;
            for (auto& listed : card.summary->certificates) {
                if (listed.id != entry.id) continue;
                entry.keyPin = listed.keyPin;
                listed = std::move(entry);
                if (listed.id == card.summary->signingCertificateId && !listed.commonName.empty()) {
                    card.summary->label = listed.commonName;
                }
            }
            for (const auto& expiry : expiries) {
                events_.certificateExpiry(card.summary->id, expiry.certificateId, expiry.notAfter, expiry.expiry);
            }
        }
    }

    // The DER of a certificate of the card, when it has been read.
    std::optional<Bytes> cachedCertificate(Card& card, const std::string& certificateId)
    {
        const std::lock_guard lock(mutex_);
        for (const auto& c : card.summary->certificates) {
            if (c.id == certificateId && c.readable) return c.der;
        }
        return std::nullopt;
    }

    SignResult signOnCard(Card& card, pcsc::ApduChannel& channel, pcsc::CardTransaction& transaction,
                          const SignRequest& request, const PinCheck& check)
    {
        std::string certificateId;
        {
            const std::lock_guard lock(mutex_);
            certificateId = request.certificateId.value_or(card.summary->signingCertificateId);
            (void)card.summary->keyPin(certificateId);  // NotFound / BadRequest before any APDU
        }
        const auto& key = card.token->key(certificateId);
        auto certificate = cachedCertificate(card, certificateId);

        const PinInput* pin = request.pin ? &*request.pin : nullptr;
        bool refusedByCheck = false;
        try {
            std::optional<PinStatus> verified;
            if (!certificate) {
                // Its PIN unlocks the certificate too (JPKI's signing
                // certificate): verify, read it, then sign on that verification.
                if (!pin) {
                    throw Error(ErrorCode::PinRequired,
                                "the certificate of this key is read when its PIN is verified: send the PIN");
                }
                verified = card.token->verifyPin(channel, key.pinId, *pin, watch(check, refusedByCheck));
                readUnlockedCertificates(card, channel, key.pinId);
                certificate = cachedCertificate(card, certificateId);
                if (!certificate) throw Error(ErrorCode::CardError, "the card did not show the certificate after its PIN");
                pin = nullptr;
            }
            auto signature = card.token->sign(channel, certificateId, request.digestAlgorithm, request.digest, pin,
                                              watch(check, refusedByCheck));
            // After a signature with a PIN the counter is what matters now.
            if (!signature.pin) signature.pin = verified;
            if (signature.pin) setPin(card, key.pinId, *signature.pin, PinOperation::Sign);
            return SignResult{std::move(signature.signature), std::move(signature.algorithm), certificateId,
                              std::move(*certificate)};
        } catch (const Error& e) {
            const auto code = e.code();
            // If our VERIFY succeeded but the signature then failed, the card
            // would stay verified for whoever comes next: reset it instead.
            const bool mayBeVerified = pin && !refusedByCheck && !connectionLost(code) && code != ErrorCode::BadRequest
                && code != ErrorCode::PinFormat && code != ErrorCode::PinIncorrect && code != ErrorCode::PinBlocked
                && code != ErrorCode::PinCancelled && code != ErrorCode::PinEntryTimeout;
            if (mayBeVerified) transaction.resetCardOnEnd();
            if (!refusedByCheck && isPinVerdict(code)) refreshPin(card, channel, key.pinId, PinOperation::Sign);
            throw;
        }
    }

    // Caches the PIN status and announces it: after every operation that may
    // have changed it, and after a status query only when it did change
    // (another application used the card).
    void setPin(Card& card, const std::string& pinId, const PinStatus& status, PinOperation operation)
    {
        const std::lock_guard lock(mutex_);
        if (!card.summary) return;
        for (auto& pin : card.summary->pins) {
            if (pin.id != pinId) continue;
            const PinStatus before = pin.status;
            pin.status = status;
            const bool changed = before.triesLeft != status.triesLeft || before.maxTries != status.maxTries
                || before.blocked != status.blocked;
            if (operation != PinOperation::Status || changed) {
                events_.pinStatus(card.summary->id, pinId, status, operation, before.blocked);
            }
        }
    }

    // Best effort: the operation's own outcome matters more than this refresh.
    void refreshPin(Card& card, pcsc::ApduChannel& channel, const std::string& pinId, PinOperation operation)
    {
        try {
            setPin(card, pinId, card.token->pinStatus(channel, pinId), operation);
        } catch (const std::exception& e) {
            log(cardName(card) + ": could not refresh the PIN status: " + describe(e));
        }
    }

    std::string cardName(const Card& card)
    {
        const std::lock_guard lock(mutex_);
        if (card.summary) return "card " + card.summary->id;
        return "card in '" + card.reader + "'";
    }

    // --- Reading a newly inserted card -----------------------------------------

    void readCard(Card& card)
    {
        const auto started = Clock::now();
        for (int attempt = 0;; ++attempt) {
            try {
                auto contents = withTransaction(card, [&](pcsc::ApduChannel& channel, pcsc::CardTransaction&) {
                    CardContents read;
                    read.identity = card.token->readIdentity(channel);
                    read.certificates = card.token->readCertificates(channel);
                    for (const auto& pin : card.token->pins()) read.pins.push_back(card.token->pinStatus(channel, pin.id));
                    return read;
                });
                // PC/SC part 10: the reader's features, asked for on connecting.
                const bool pinpad = card.handle && card.handle->readerHasPinpad();
                std::vector<CertificateExpiry> expiries;
                auto summary = summarize(card, std::move(contents), expiries);
                summary.pinpad = pinpad;
                const auto line = "card " + summary.id + " in '" + card.reader + "': " + summary.profile + ", \""
                    + summary.label + "\", " + std::to_string(summary.certificates.size()) + " certificate(s), "
                    + pinsLine(summary) + ", read in " + milliseconds(Clock::now() - started);
                {
                    const std::lock_guard lock(mutex_);
                    card.summary = std::move(summary);
                    if (isCurrent(card)) announceInsertion(card, expiries);
                }
                log(line);
                return;
            } catch (const std::exception& e) {
                const auto* error = dynamic_cast<const Error*>(&e);
                if (error && error->code() == ErrorCode::Busy && attempt < options_.busyRetries
                    && card.worker.sleepUnlessRetired(options_.busyRetryInterval)) {
                    continue;
                }
                log("card in '" + card.reader + "' could not be read: " + describe(e));
                const std::lock_guard lock(mutex_);
                if (isCurrent(card)) events_.unusableCardInserted(card.reader, card.atr, error ? error->code() : ErrorCode::Internal);
                return;
            }
        }
    }

    // Caller holds mutex_. Whether `card` is still the one in its reader (it
    // may have been pulled out while it was being read).
    bool isCurrent(const Card& card) const
    {
        const auto it = readers_.find(card.reader);
        return it != readers_.end() && it->second.card.get() == &card;
    }

    // Caller holds mutex_; the card has been read.
    void announceInsertion(const Card& card, const std::vector<CertificateExpiry>& expiries)
    {
        const CardSummary& summary = *card.summary;
        events_.cardInserted(card.reader, card.atr, summary);
        for (const auto& pin : summary.pins) {
            if (pin.status.blocked) events_.pinStatus(summary.id, pin.id, pin.status, PinOperation::Status, /*wasBlocked=*/false);
        }
        for (const auto& expiry : expiries) {
            events_.certificateExpiry(summary.id, expiry.certificateId, expiry.notAfter, expiry.expiry);
        }
    }

    CardSummary summarize(const Card& card, CardContents contents, std::vector<CertificateExpiry>& expiries)
    {
        CardSummary summary;
        summary.id = contents.identity.cardId;
        summary.reader = card.reader;
        summary.profile = std::string(card.token->profileId());
        const auto& pins = card.token->pins();
        for (std::size_t i = 0; i < pins.size(); ++i) {
            summary.pins.push_back(
                PinSummary{pins[i].id, pins[i].label, contents.pins.at(i), pins[i].format, pins[i].unblockCodeFormat});
        }
        summary.signingCertificateId = card.token->keys().front().certificateId;
        for (auto& certificate : contents.certificates) {
            summary.certificates.push_back(describeCertificate(card, std::move(certificate), expiries));
        }
        for (const auto& locked : card.token->protectedCertificates()) {
            CertificateSummary entry;
            entry.id = locked.certificateId;
            entry.readable = false;
            entry.readAfterPin = locked.pinId;
            summary.certificates.push_back(std::move(entry));
        }
        for (auto& entry : summary.certificates) {
            for (const auto& key : card.token->keys()) {
                if (key.certificateId == entry.id) entry.keyPin = key.pinId;
            }
            if (entry.id == summary.signingCertificateId) summary.label = entry.commonName;
        }
        if (summary.label.empty()) summary.label = std::string(card.token->profileName());
        return summary;
    }

    // A certificate as read from the card, decoded for the listing; its
    // expiry is added to `expiries`.
    CertificateSummary describeCertificate(const Card& card, card::TokenCertificate certificate,
                                           std::vector<CertificateExpiry>& expiries)
    {
        CertificateSummary entry;
        entry.id = certificate.id;
        entry.der = std::move(certificate.der);
        if (const auto info = decodeListing(entry)) {
            expiries.push_back({entry.id, info->notAfter, cert::expiryOf(*info, now(), events_.warnDays())});
        } else {
            // Still listed (with its DER) so the user can see what is on the card.
            log(cardName(card) + ": certificate '" + entry.id + "' could not be parsed");
        }
        return entry;
    }

    static std::string pinsLine(const CardSummary& summary)
    {
        std::string line;
        for (const auto& pin : summary.pins) {
            line += (line.empty() ? "PIN " : ", PIN ") + pin.id + " " + std::to_string(pin.status.triesLeft) + "/"
                + std::to_string(pin.status.maxTries) + (pin.status.blocked ? " (blocked)" : "");
        }
        return line;
    }

    // --- Reader events (monitor thread) ----------------------------------------

    void onReaderEvent(const pcsc::ReaderEvent& event)
    {
        using Kind = pcsc::ReaderEvent::Kind;
        std::vector<std::shared_ptr<Card>> finished;
        std::string line;
        {
            const std::lock_guard lock(mutex_);
            if (shuttingDown_) return;
            switch (event.kind) {
            case Kind::PcscAvailable:
                pcscAvailable_ = true;
                events_.pcscAvailable(true);
                line = "PC/SC service available";
                break;
            case Kind::PcscUnavailable:
                // The removals that follow fail queued operations with PcscUnavailable.
                pcscAvailable_ = false;
                events_.pcscAvailable(false);
                line = "PC/SC service unavailable; waiting for it to come back";
                break;
            case Kind::ReaderAdded:
                readers_.try_emplace(event.reader);
                events_.readerAdded(event.reader);
                line = "reader added: '" + event.reader + "'";
                break;
            case Kind::ReaderRemoved:
                if (const auto it = readers_.find(event.reader); it != readers_.end()) {
                    // The monitor reports the card's removal first; one it missed is announced here.
                    if (it->second.cardPresent) events_.cardRemoved(event.reader, announcedCardId(it->second));
                    retire(it->second, Error(ErrorCode::ReaderUnavailable, "the reader was removed"));
                    readers_.erase(it);
                }
                events_.readerRemoved(event.reader);
                line = "reader removed: '" + event.reader + "'";
                break;
            case Kind::CardInserted: line = cardInserted(event); break;
            case Kind::CardRemoved: {
                auto& reader = readers_[event.reader];
                const auto id = reader.card && reader.card->summary ? " " + reader.card->summary->id : std::string();
                if (reader.cardPresent) events_.cardRemoved(event.reader, announcedCardId(reader));
                retire(reader, pcscAvailable_ ? Error(ErrorCode::CardRemoved, "the card was removed")
                                              : Error(ErrorCode::PcscUnavailable, "the PC/SC service stopped"));
                reader.cardPresent = false;
                reader.atr.clear();
                line = "card" + id + " removed from '" + event.reader + "'";
                break;
            }
            }
            // Workers of removed cards that have finished can be joined now.
            for (auto it = retired_.begin(); it != retired_.end();) {
                if ((*it)->worker.finished()) {
                    finished.push_back(std::move(*it));
                    it = retired_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        log(line);
        finished.clear();  // joins, outside the lock
    }

    // Caller holds mutex_.
    std::string cardInserted(const pcsc::ReaderEvent& event)
    {
        auto& reader = readers_[event.reader];
        if (reader.cardPresent) events_.cardRemoved(event.reader, announcedCardId(reader));  // a missed removal
        retire(reader, Error(ErrorCode::CardRemoved, "the card was removed"));
        reader.cardPresent = true;
        reader.atr = event.atr;
        const auto where = "card inserted in '" + event.reader + "' (ATR " + pcsc::toHex(event.atr) + ")";
        auto token = card::tokenForAtr(event.atr);
        if (!token) {
            events_.unusableCardInserted(event.reader, event.atr, std::nullopt);
            return where + ": not a supported card";
        }

        const std::string profile(token->profileId());
        reader.card = std::make_shared<Card>(event.reader, event.atr, std::move(token));
        Card& card = *reader.card;
        auto read = [this, &card] { readCard(card); };
        (void)card.worker.post(std::make_unique<BackgroundTask<decltype(read)>>(std::move(read)));
        return where + ": " + profile + ", reading it";
    }

    // Caller holds mutex_. The id of the reader's card as card-inserted
    // announced it (none while it is still being read, or was not readable).
    static std::optional<std::string> announcedCardId(const Reader& reader)
    {
        if (reader.card && reader.card->summary) return reader.card->summary->id;
        return std::nullopt;
    }

    // Caller holds mutex_. The card's queued operations fail with `reason`.
    void retire(Reader& reader, Error reason)
    {
        if (!reader.card) return;
        reader.card->worker.retire(std::move(reason));
        retired_.push_back(std::move(reader.card));
        reader.card.reset();
    }

    void log(const std::string& line)
    {
        if (options_.log) {
            options_.log(line);
            return;
        }
        const std::lock_guard lock(logMutex_);
        std::cerr << "inkand: " << line << '\n';
    }

    const CardServiceOptions options_;
    const std::shared_ptr<CardBackend> backend_;
    const CardEvents events_;
    std::mutex logMutex_;

    std::mutex mutex_;  // guards everything below, and Card::summary
    bool pcscAvailable_ = false;
    bool shuttingDown_ = false;
    std::map<std::string, Reader> readers_;
    std::vector<std::shared_ptr<Card>> retired_;  // removed; their workers are finishing
    std::vector<std::shared_ptr<Card>> stopped_;  // after shutdown()

    Worker dispatcher_;  // last: destroyed (joined) first
};

}  // namespace

std::unique_ptr<CardAgent> makeCardService(CardServiceOptions options)
{
    auto service = std::make_unique<CardService>(std::move(options));
    service->start();
    return service;
}

}  // namespace inkan::service
