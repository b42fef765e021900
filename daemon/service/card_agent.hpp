// inkan — what the daemon's card domain offers to its front ends (the HTTPS API,
// later the CLI over the API). Handlers know this interface, never an APDU.
//
// Every operation is asynchronous and completes exactly once, with either a
// value or an exception (normally inkan::Error). Card operations (PIN status,
// verify, change, unblock, sign) run on the worker of the card concerned, one
// at a time per card, and complete on that worker's thread; the listings
// (status, cards) complete on the caller's thread, copied from the registry;
// the other registry answers (card, certificate) and early refusals complete
// on the service's dispatch thread; after shutdown() began, calls complete
// with Busy on the caller's thread. Completions never run under a lock of the
// service, must not call shutdown() or destroy it, and callers must hop back
// to their own executor before touching their state.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/card/types.hpp"
#include "daemon/secret.hpp"

namespace inkan {

/// A certificate as listed with a card; `der` is the exact encoding read from the card.
struct CertificateSummary {
    std::string id;            // stable within the card, e.g. "sign"
    /// False while the card shows it only after a PIN is verified (the JPKI
    /// signing certificate): then only `id`, `keyPin` and `readAfterPin` are set.
    bool readable = true;
    /// The PIN to verify before the certificate can be read (when !readable).
    std::optional<std::string> readAfterPin;
    /// The card holds this certificate's private key, guarded by this PIN.
    std::optional<std::string> keyPin;
    std::string subject;       // RFC 4514 string, UTF-8
    std::string commonName;    // the subject's CN, UTF-8; empty when it has none
    std::string issuer;        // RFC 4514 string, UTF-8
    std::string serialNumber;  // upper-case hex, no separators
    std::string notBefore;     // RFC 3339, UTC, e.g. 2026-01-01T00:00:00Z
    std::string notAfter;
    Bytes der;
};

/// One PIN of a card: its profile's rules and the state inkand last read.
struct PinSummary {
    std::string id;     // stable within the profile: "user", "auth", "sign" ...
    std::string label;  // for people
    PinStatus status;
    /// What the card accepts as this PIN and as its unblock code (none: the
    /// card cannot unblock it), from its profile: checked before anything
    /// reaches the card.
    PinFormat format;
    std::optional<PinFormat> unblockCodeFormat;
};

struct CardSummary {
    std::string id;       // stable across re-insertion and reader changes
    std::string reader;
    std::string profile;  // card profile id, e.g. "inkan-reference"
    std::string label;    // human readable, e.g. the certificate's subject CN
    /// Every PIN of the card; the first is its default PIN (the single-PIN API paths).
    std::vector<PinSummary> pins;
    /// The certificate whose key signs when a request names none.
    std::string signingCertificateId;
    std::vector<CertificateSummary> certificates;
    /// The reader holding the card has a PIN pad (ReaderSummary::pinpad).
    bool pinpad = false;
    /// A certificate of the card is listed as lost/suspended in the config
    /// (set by the security layer, daemon/security/card_access.*).
    bool blockedByPolicy = false;

    /// The default PIN (pins.front(); every profile has one).
    const PinSummary& defaultPin() const { return pins.front(); }
    /// PIN `pinId`; NotFound when the card has none by that id.
    const PinSummary& pin(const std::string& pinId) const;
    /// The PIN guarding the key of certificate `certificateId` (default: the
    /// signing certificate); NotFound / BadRequest when there is none.
    const PinSummary& keyPin(const std::optional<std::string>& certificateId) const;
};

struct ReaderSummary {
    std::string name;
    bool cardPresent = false;
    std::optional<std::string> cardId;  // when a supported card is present
    std::optional<std::string> atr;     // upper-case hex, when a card is present
    /// The reader has a PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT).
    bool pinpad = false;
    /// The card in it is blocked by policy (see CardSummary).
    bool blockedByPolicy = false;
};

struct AgentStatus {
    bool pcscAvailable = false;
    std::vector<ReaderSummary> readers;
};

struct SignRequest {
    std::optional<std::string> certificateId;  // default: the card's signing certificate
    Bytes digest;                              // exactly the algorithm's length
    DigestAlgorithm digestAlgorithm = DigestAlgorithm::Sha256;
    std::optional<PinInput> pin;  // none: rely on a PIN verified just before
};

struct SignResult {
    Bytes signature;
    std::string signatureAlgorithm;  // e.g. "RSASSA-PKCS1-v1_5-SHA-256"
    std::string certificateId;
    Bytes certificate;  // DER
};

template <class T>
using Outcome = std::variant<T, std::exception_ptr>;
template <class T>
using Completion = std::function<void(Outcome<T>)>;

class CardAgent {
public:
    virtual ~CardAgent() = default;

    virtual void status(Completion<AgentStatus> done) = 0;
    virtual void cards(Completion<std::vector<CardSummary>> done) = 0;
    virtual void card(const std::string& cardId, Completion<CardSummary> done) = 0;
    virtual void certificate(const std::string& cardId, const std::string& certId,
                             Completion<CertificateSummary> done) = 0;
    /// Operations on a PIN name it by id (CardSummary::pins); an id the card
    /// does not have is NotFound, an operation it cannot do is
    /// UnsupportedOperation, both before anything reaches the card.
    virtual void pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) = 0;
    /// The unblock code's own counter, without spending a try.
    virtual void unblockCodeStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) = 0;
    /// On the PIN pad, change and unblock take both values from it.
    /// `check` (the PIN guard, types.hpp) runs on the card's worker inside
    /// the operation's transaction, with the counter read right before the
    /// command that spends a try; what it throws is the operation's outcome.
    /// They answer the PIN's state as read back from the card.
    /// A verification also reads the certificates its PIN unlocks
    /// (CertificateSummary::readable), once per insertion.
    virtual void verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                           Completion<PinStatus> done) = 0;
    virtual void changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin,
                           PinCheck check, Completion<PinStatus> done) = 0;
    virtual void unblockPin(const std::string& cardId, const std::string& pinId, PinInput unblockCode, PinInput newPin,
                            PinCheck check, Completion<PinStatus> done) = 0;
    /// `check` as above, for the VERIFY (of the key's PIN) of a request with a PIN.
    virtual void sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done) = 0;

    /// Ends any PIN verification the card holds (the card is reset at the end
    /// of a transaction, SCARD_RESET_CARD: the security status is cleared), so
    /// that nobody can sign on it without a PIN.
    virtual void endPinVerification(const std::string& cardId, Completion<std::monostate> done) = 0;

    /// Finish the operation each card is running, refuse new ones, stop the workers.
    virtual void shutdown() = 0;
};

}  // namespace inkan
