// inkan — the tokens of one PKCS#11 module as cards (docs/credentials.md
// "PKCS#11 tokens"): vendor cards that come with their own middleware and
// publish no APDUs, SoftHSM, OpenSC.
//
// Each token showing a certificate whose private key it holds is listed as a
// card: profile "pkcs11", reader = the slot's description, an id stable across
// re-insertion (the token's serial and label and the certificate), one PIN
// ("user"). Nothing stays logged in: every PIN operation is C_Login ...
// C_Logout in a session of its own, so a signature needs its PIN in the
// request. PIN states come from the token's flags (CKF_USER_PIN_COUNT_LOW,
// _FINAL_TRY, _LOCKED); a token tells no counter, so tries are listed as
// unknown unless it says "final try" or "locked".
//
// Tokens coming and going are seen by a slow poll of the slot list (a pipe
// round trip to the helper every few seconds, no busy loop). Module calls go
// through Module (module.hpp: in the daemon, a helper process per module);
// operations run one at a time on this agent's worker. Knows no HTTP.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/pkcs11/module.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/card_events.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::pkcs11 {

inline constexpr std::string_view kPkcs11Profile = "pkcs11";
inline constexpr std::string_view kUserPinId = "user";
// Often enough that a token taken out is gone from the listing by the time
// someone looks; rare enough to cost nothing idle (one pipe round trip).
inline constexpr std::chrono::milliseconds kDefaultPollInterval{3000};

struct TokensOptions {
    std::chrono::milliseconds pollInterval = kDefaultPollInterval;  // zero: no poll thread (unit tests call refresh())
    std::function<void(std::string_view)> log;
    /// card-inserted (with an empty `atr`) and card-removed for tokens coming and going (docs/events.md).
    std::shared_ptr<service::EventBus> events;
};

/// The PIN status a token's flags tell (module.hpp's kCkfUserPin*).
PinStatus pinStatusFromFlags(std::uint64_t flags);

/// An ECDSA signature as PKCS#11 gives it (r || s, each half the length)
/// in the DER form the API answers (SEQUENCE { INTEGER r, INTEGER s }).
Bytes ecdsaSignatureToDer(const Bytes& raw);

class Pkcs11Tokens final : public CardAgent {
public:
    /// Reads the tokens present now, then polls (options.pollInterval).
    Pkcs11Tokens(std::unique_ptr<Module> module, TokensOptions options);
    ~Pkcs11Tokens() override;

    /// Whether `cardId` is one of this module's tokens.
    bool has(const std::string& cardId) const;
    /// One poll: the slot list read again, new tokens read, gone ones dropped.
    void refresh();

    void status(Completion<AgentStatus> done) override;
    void cards(Completion<std::vector<CardSummary>> done) override;
    void card(const std::string& cardId, Completion<CardSummary> done) override;
    void certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done) override;
    void pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override;
    void unblockCodeStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override;
    void verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                   Completion<PinStatus> done) override;
    void changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin, PinCheck check,
                   Completion<PinStatus> done) override;
    void unblockPin(const std::string& cardId, const std::string& pinId, PinInput unblockCode, PinInput newPin,
                    PinCheck check, Completion<PinStatus> done) override;
    void sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done) override;
    void endPinVerification(const std::string& cardId, Completion<std::monostate> done) override;
    void shutdown() override;

private:
    /// A certificate whose key the token holds.
    struct Key {
        std::string certificateId;
        Bytes keyId;  // CKA_ID
        bool ec = false;
    };
    struct Token {
        SlotToken slot;
        CardSummary card;  // empty id: the token shows no certificate with a key (not listed)
        std::vector<Key> keys;
        std::vector<std::uint64_t> mechanisms;
    };

    template <class T, class Body>
    void run(Body body, Completion<T> done);
    /// The token as read now (not a listing's copy).
    Token find(const std::string& cardId) const;
    Token read(const SlotToken& slot);
    /// The token's flags read again, the registry updated; CardRemoved when it is gone.
    PinStatus freshStatus(const Token& token);
    void updateFlags(const Token& token, std::uint64_t flags);
    /// Throws the inkan::Error for a PIN operation's CK_RV (not CKR_OK).
    [[noreturn]] void throwFor(const Token& token, const PinAnswer& answer);
    const Secret& pinValue(const Token& token, const PinInput& pin, std::string_view what) const;
    void poll();

    std::unique_ptr<Module> module_;
    TokensOptions options_;
    service::CardEvents events_;
    mutable std::mutex mutex_;
    std::vector<Token> tokens_;  // every initialised token, listed or not
    service::Worker worker_;
    std::mutex pollMutex_;
    std::condition_variable pollWake_;
    bool stopping_ = false;
    std::thread poller_;
};

}  // namespace inkan::pkcs11
