// inkan — a card profile: what inkan can do with one kind of card.
//
// One class per card profile (reference_card.*, jpki_card.*),
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

/// One PIN of the card, as its profile describes it.
struct PinInfo {
    std::string id;     // stable within the profile: "user", "auth", "sign" ...
    std::string label;  // for people, e.g. "digital signature PIN (署名用パスワード)"
    PinFormat format;
    /// The unblock code's format; none: the card cannot unblock this PIN
    /// (unblockPin answers UnsupportedOperation before any APDU).
    std::optional<PinFormat> unblockCodeFormat;
};

/// One private key of the card: the certificate of its public half, and the
/// PIN that must be verified before it signs.
struct KeyInfo {
    std::string certificateId;
    std::string pinId;
};

/// A certificate the card shows only after a PIN is verified (the JPKI
/// signing certificate names its holder): listed unreadable until then.
struct ProtectedCertificate {
    std::string certificateId;
    std::string pinId;
};

struct TokenSignature {
    Bytes signature;
    std::string algorithm;  // e.g. "RSASSA-PKCS1-v1_5-SHA-256"
    /// The key's PIN as the card tells it after the signature; none when the
    /// signature did not touch its counter (no PIN given and the card keeps
    /// its verification).
    std::optional<PinStatus> pin;
};

class Token {
public:
    virtual ~Token() = default;

    /// The profile id shown to users and portals, e.g. "inkan-reference".
    virtual std::string_view profileId() const = 0;
    /// A human name for the card when its certificate has no CN.
    virtual std::string_view profileName() const = 0;

    /// The card's PINs; the first is its default PIN (the one the single-PIN
    /// API paths mean). What each accepts is checked before any APDU; the
    /// card service hands these rules up with the card (CardSummary), so the
    /// daemon refuses a malformed PIN before it even reads the counter.
    virtual const std::vector<PinInfo>& pins() const = 0;
    /// The card's private keys; the first is its signing key (the default of sign()).
    virtual const std::vector<KeyInfo>& keys() const = 0;
    /// Certificates readCertificates() cannot read before their PIN is verified.
    virtual const std::vector<ProtectedCertificate>& protectedCertificates() const
    {
        static const std::vector<ProtectedCertificate> none;
        return none;
    }

    virtual CardIdentity readIdentity(pcsc::ApduChannel& channel) const = 0;
    /// Every certificate the card shows without a PIN, signing certificate
    /// first when it is one of them; absent optional files are skipped.
    virtual std::vector<TokenCertificate> readCertificates(pcsc::ApduChannel& channel) const = 0;
    /// A protected certificate, right after its PIN was verified in the same
    /// transaction (verifyPin, or sign with a PIN).
    virtual TokenCertificate readProtectedCertificate(pcsc::ApduChannel& channel, std::string_view certificateId) const;

    /// The state of PIN `pinId` (one of pins()), without spending a try.
    virtual PinStatus pinStatus(pcsc::ApduChannel& channel, std::string_view pinId) const = 0;
    /// The unblock code's state of PIN `pinId`, without spending a try;
    /// UnsupportedOperation when the card cannot unblock it.
    virtual PinStatus unblockCodeStatus(pcsc::ApduChannel& channel, std::string_view pinId) const;

    /// A PinInput on the PIN pad has the reader collect the value
    /// (ApduChannel::verifyOnPinpad / modifyOnPinpad) into the same command
    /// the profile would send; change and unblock take both values from the
    /// pad or both from the caller (else Internal).
    ///
    /// `check` (types.hpp) gets the counter the command is about to spend
    /// from: the PIN's, the unblock code's for unblockPin. It is read after
    /// the one SELECT of the operation and right before the command.
    ///
    /// They answer the PIN's state as the card tells it afterwards, never an
    /// assumed value.
    virtual PinStatus verifyPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                                const PinCheck& check = {}) const = 0;
    virtual PinStatus changePin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                                const PinInput& newPin, const PinCheck& check = {}) const = 0;
    /// UnsupportedOperation, before any APDU, when the card cannot unblock `pinId`.
    virtual PinStatus unblockPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& unblockCode,
                                 const PinInput& newPin, const PinCheck& check = {}) const;

    /// Sign `digest` (exactly the algorithm's length) with the key of
    /// certificate `certificateId` (one of keys()). With `pin`: `check` as
    /// above, then VERIFY of the key's PIN, in the same transaction. Without:
    /// relies on a PIN verified earlier, and throws PinRequired when there is none.
    virtual TokenSignature sign(pcsc::ApduChannel& channel, std::string_view certificateId, DigestAlgorithm algorithm,
                                pcsc::ByteView digest, const PinInput* pin, const PinCheck& check = {}) const = 0;

    // --- Lookups in the tables above (NotFound when absent) ----------------
    const PinInfo& pin(std::string_view pinId) const;
    const KeyInfo& key(std::string_view certificateId) const;
};

}  // namespace inkan::card
