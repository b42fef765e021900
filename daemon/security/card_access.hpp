// inkan — the card as the API's callers reach it: the CardAgent behind the
// origin policy, the PIN guard, the wrong-PIN rate limit and the PIN sources
// (docs/security.md). Handlers call this instead of the CardAgent; it knows
// no HTTP, and no APDU either: it decides, then lets the agent act.
//
// For every operation on a card, in this order, each step refusing before
// the next (and before anything reaches the card where it can):
//   1. the card exists (registry, no APDU);
//   2. the principal may do the operation with it (policy.hpp), and no
//      certificate of it is blocked (CARD_BLOCKED_BY_POLICY);
//   3. if the card may still be verified for another principal (or for this
//      one, past the window), the agent ends that verification first
//      (verified_pins.hpp);
// a signature without a PIN then goes ahead only on the principal's own
// verification made just before (else PIN_REQUIRED, nothing sent); and for
// an operation that may spend a PIN try (verify, change, unblock, sign with
// a PIN):
//   4. the PIN comes from where the origin's policy says (PIN_SOURCE_MISMATCH),
//      and a PIN from the request has the card profile's format (PIN_FORMAT);
//   5. the origin has not sent too many wrong PINs lately (PIN_RATE_LIMITED);
//   6. one PIN operation per card at a time;
//   7. for the pinentry source, inkand reads the counter and asks the user in
//      a dialog that shows the origin, the card holder, the operation and the
//      tries left (refusing first what the guard would refuse);
//   8. the agent performs the operation. Inside its card transaction, after
//      its one SELECT, the counter is read without spending a try and the PIN
//      guard decides on it (PIN_BLOCKED, PIN_GUARD) right before the command
//      that spends a try; a wrong PIN counts for step 5.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/secret.hpp"
#include "daemon/security/dialogs.hpp"
#include "daemon/security/pairing_store.hpp"
#include "daemon/security/policy.hpp"
#include "daemon/security/rate_limiter.hpp"
#include "daemon/security/verified_pins.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::security {

/// What a PIN-spending request says besides its values.
struct PinRequestOptions {
    /// "acknowledgeLowTries": true — spend one of the last few tries anyway.
    bool acknowledgeLowTries = false;
    /// "pinpad": true — the user types the PIN on the reader's PIN pad. The
    /// local client's choice; a web origin's PIN source is its policy's, so
    /// from one this must agree with it (else PIN_SOURCE_MISMATCH).
    bool pinpad = false;
    /// Which of the card's PINs (CardSummary::pins); none: its default PIN.
    /// A signature uses the PIN of its key and ignores this.
    std::optional<std::string> pinId;
    /// For a document signature: what is signed, as inkand read it from the
    /// document (daemon/formats/document.hpp); shown in the PIN dialog.
    std::string document{};
};

/// What a principal may do, for GET /v1/access.
struct AccessSummary {
    enum class Standing { LocalClient, Console, Allowlisted, Paired, Unknown };
    Standing standing = Standing::Unknown;
    OperationSet operations;
    std::optional<std::vector<std::string>> cards;
    PinSource pinSource = PinSource::Request;
    bool mayAcknowledgeLowTries = false;
    std::optional<int> pinGuardThreshold;  // none: relative to each PIN's maximum
};

std::string_view standingName(AccessSummary::Standing standing);

struct CardAccessOptions {
    std::shared_ptr<const Policy> policy;
    /// Paired origins; null: none.
    std::shared_ptr<const PairingStore> pairings;
    /// PIN dialogs; null: none.
    std::shared_ptr<DialogRunner> dialogs;
    /// One line per refusal and per PIN operation (never a PIN); null: none.
    std::function<void(std::string_view line)> log;
    /// The clock of the verified-PIN window (verified_pins.hpp); null: the steady clock.
    VerifiedPins::Now now;
};

class CardAccess {
public:
    /// `agent` must outlive this object and every operation started through it.
    CardAccess(CardAgent& agent, CardAccessOptions options);
    ~CardAccess();

    CardAccess(const CardAccess&) = delete;
    CardAccess& operator=(const CardAccess&) = delete;

    // Reading (operation "read"). Lists leave out cards the principal may
    // not read and mark blocked ones (blockedByPolicy).
    void status(const Principal& principal, Completion<AgentStatus> done);
    void cards(const Principal& principal, Completion<std::vector<CardSummary>> done);
    void card(const Principal& principal, const std::string& cardId, Completion<CardSummary> done);
    void certificate(const Principal& principal, const std::string& cardId, const std::string& certId,
                     Completion<CertificateSummary> done);
    /// `pinId` none: the card's default PIN.
    void pinStatus(const Principal& principal, const std::string& cardId, const std::optional<std::string>& pinId,
                   Completion<PinStatus> done);
    void unblockCodeStatus(const Principal& principal, const std::string& cardId,
                           const std::optional<std::string>& pinId, Completion<PinStatus> done);

    // Spending PIN tries ("pin"; sign is "sign"). A PIN argument is nullopt
    // when the request carried none: required for the request source,
    // refused (PIN_SOURCE_MISMATCH) for the others.
    void verifyPin(const Principal& principal, const std::string& cardId, std::optional<Secret> pin,
                   PinRequestOptions options, Completion<PinStatus> done);
    void changePin(const Principal& principal, const std::string& cardId, std::optional<Secret> pin,
                   std::optional<Secret> newPin, PinRequestOptions options, Completion<PinStatus> done);
    void unblockPin(const Principal& principal, const std::string& cardId, std::optional<Secret> unblockCode,
                    std::optional<Secret> newPin, PinRequestOptions options, Completion<PinStatus> done);
    void sign(const Principal& principal, const std::string& cardId, SignRequest request, PinRequestOptions options,
              Completion<SignResult> done);

    /// The card, once `principal` may do `operation` with it: for routes
    /// that reach the card in other ways (they must not bypass the policy).
    void authorize(const Principal& principal, const std::string& cardId, Operation operation,
                   Completion<CardSummary> done);

    /// What `principal` may do in general (per-card rules aside).
    AccessSummary describe(const Principal& principal) const;

    const Policy& policy() const noexcept { return *options_.policy; }

private:
    struct Grant;
    struct PinFlow;
    class CardQueue;

    Grant grantOf(const Principal& principal) const;
    /// Step 3: ends the card's verification when it is not `principal`'s to
    /// use, then calls `next` (with the error when that failed).
    void claim(const Principal& principal, const std::string& cardId, std::function<void(std::exception_ptr)> next);
    void startPinFlow(std::shared_ptr<PinFlow> flow);
    void onCardForPin(const std::shared_ptr<PinFlow>& flow, const CardSummary& card);
    void onClaimed(const std::shared_ptr<PinFlow>& flow);
    /// The PIN guard's decision on `status`; throws PIN_BLOCKED, PIN_GUARD.
    void guard(const PinFlow& flow, const PinStatus& status) const;
    PinCheck guardFor(const std::shared_ptr<PinFlow>& flow) const;
    void askUser(const std::shared_ptr<PinFlow>& flow, const PinStatus& status);
    void perform(const std::shared_ptr<PinFlow>& flow);
    void note(const Principal& principal, const std::string& cardId, std::string_view what) const;

    CardAgent& agent_;
    CardAccessOptions options_;
    FailureLimiter wrongPins_;
    VerifiedPins verifiedPins_;
    std::unique_ptr<CardQueue> queue_;
};

}  // namespace inkan::security
