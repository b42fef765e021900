// inkan — a card profile: what inkan can do with one kind of card.
//
// One class per card profile (reference_card.*, later the corporate card),
// stateless: everything it knows about the card is read through the channel
// it is given. Every method runs inside one card transaction (the caller holds
// a pcsc::CardTransaction and builds the channel on it), so a profile never
// has to fear another application's APDUs between two of its own.
//
// Errors are inkan::Error; PIN and format rules are checked before anything
// is sent, so a refused PIN never costs a try.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/pcsc/apdu_channel.hpp"
#include "daemon/secret.hpp"
#include "daemon/card/types.hpp"

namespace inkan::card {

/// Who the card is: the serial as read from the card, and the id inkan shows
/// for it (stable across re-insertion and readers).
struct CardIdentity {
    Bytes serial;
    std::string cardId;
};

/// A certificate file as read from the card.
struct TokenCertificate {
    std::string id;  // stable within the profile, e.g. "sign"
    Bytes der;
};

struct TokenSignature {
    Bytes signature;
    std::string algorithm;  // e.g. "RSASSA-PKCS1-v1_5-SHA-256"
    /// The user PIN's state read back after the signature (which used up the verification).
    PinStatus pin;
};

class Token {
public:
    virtual ~Token() = default;

    /// The profile id shown to users and portals, e.g. "inkan-reference".
    virtual std::string_view profileId() const = 0;
    /// A human name for the card when its certificate has no CN.
    virtual std::string_view profileName() const = 0;
    /// The id of the certificate whose key sign() uses.
    virtual std::string_view signingCertificateId() const = 0;

    virtual CardIdentity readIdentity(pcsc::ApduChannel& channel) const = 0;
    /// Every certificate on the card, signing certificate first; absent optional files are skipped.
    virtual std::vector<TokenCertificate> readCertificates(pcsc::ApduChannel& channel) const = 0;

    /// What this card accepts as its PIN, and as its unblock code (nullopt:
    /// the card has none). The operations below check the same before any
    /// APDU; the card service hands these rules up with the card
    /// (CardSummary), so the daemon refuses a malformed PIN before it even
    /// reads the PIN counter (the PIN guard does that first).
    virtual PinFormat pinFormat() const = 0;
    virtual std::optional<PinFormat> unblockCodeFormat() const = 0;

    /// The user PIN's state, without spending a try.
    virtual PinStatus pinStatus(pcsc::ApduChannel& channel) const = 0;
    /// The unblock code's state, without spending a try.
    virtual PinStatus unblockCodeStatus(pcsc::ApduChannel& channel) const = 0;

    /// A PinInput on the PIN pad has the reader collect the value
    /// (ApduChannel::verifyOnPinpad / modifyOnPinpad) into the same command
    /// the profile would send; change and unblock take both values from the
    /// pad or both from the caller (else Internal).
    ///
    /// `check` (types.hpp) gets the counter the command is about to spend
    /// from: the user PIN's, the unblock code's for unblockPin. It is read
    /// after the one SELECT of the operation and right before the command.
    ///
    /// They answer the user PIN's state read back from the card afterwards
    /// (no try spent), never an assumed value.
    virtual PinStatus verifyPin(pcsc::ApduChannel& channel, const PinInput& pin, const PinCheck& check = {}) const = 0;
    virtual PinStatus changePin(pcsc::ApduChannel& channel, const PinInput& pin, const PinInput& newPin,
                                const PinCheck& check = {}) const = 0;
    virtual PinStatus unblockPin(pcsc::ApduChannel& channel, const PinInput& unblockCode, const PinInput& newPin,
                                 const PinCheck& check = {}) const = 0;

    /// Sign `digest` (exactly the algorithm's length) with the signing key.
    /// With `pin`: `check` as above, then VERIFY, in the same transaction.
    /// Without: relies on a PIN verified earlier, and throws PinRequired when
    /// there is none.
    virtual TokenSignature sign(pcsc::ApduChannel& channel, DigestAlgorithm algorithm, pcsc::ByteView digest,
                                const PinInput* pin, const PinCheck& check = {}) const = 0;
};

}  // namespace inkan::card
