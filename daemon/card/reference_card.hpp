// inkan — the inkan reference card (profile "inkan-reference").
//
// Specification: docs/reference-card.md. inkan-vcard emulates the same card.
#pragma once

#include "daemon/card/token.hpp"

namespace inkan::card {

class ReferenceCard final : public Token {
public:
    static constexpr std::string_view kProfileId = "inkan-reference";

    std::string_view profileId() const override { return kProfileId; }
    std::string_view profileName() const override { return "inkan reference card"; }

    const std::vector<PinInfo>& pins() const override;
    const std::vector<KeyInfo>& keys() const override;

    CardIdentity readIdentity(pcsc::ApduChannel& channel) const override;
    std::vector<TokenCertificate> readCertificates(pcsc::ApduChannel& channel) const override;

    PinStatus pinStatus(pcsc::ApduChannel& channel, std::string_view pinId) const override;
    PinStatus unblockCodeStatus(pcsc::ApduChannel& channel, std::string_view pinId) const override;
    PinStatus verifyPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                        const PinCheck& check = {}) const override;
    PinStatus changePin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin, const PinInput& newPin,
                        const PinCheck& check = {}) const override;
    PinStatus unblockPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& unblockCode,
                         const PinInput& newPin, const PinCheck& check = {}) const override;

    TokenSignature sign(pcsc::ApduChannel& channel, std::string_view certificateId, DigestAlgorithm algorithm,
                        pcsc::ByteView digest, const PinInput* pin, const PinCheck& check = {}) const override;

    /// The card id for a serial: the first 16 lower-case hex digits of
    /// SHA-256("inkan-reference:" || serial). Hashing keeps the raw serial out
    /// of URLs and logs; the profile prefix keeps ids of different profiles apart.
    static std::string cardIdForSerial(pcsc::ByteView serial);
};

}  // namespace inkan::card
