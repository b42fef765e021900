// inkan — the My Number card's public-key application, JPKI (公的個人認証)
// (profile "jpki").
//
// Specification: docs/jpki.md, which follows OpenSC's jpki driver
// (card-jpki.c, pkcs15-jpki.c, jpki.h). inkan-vcard --profile jpki emulates
// the same card, and OpenSC is run against that emulation in the tests.
#pragma once

#include "daemon/card/token.hpp"

namespace inkan::card {

class JpkiCard final : public Token {
public:
    static constexpr std::string_view kProfileId = "jpki";

    std::string_view profileId() const override { return kProfileId; }
    std::string_view profileName() const override { return "My Number card (JPKI)"; }

    const std::vector<PinInfo>& pins() const override;
    const std::vector<KeyInfo>& keys() const override;
    const std::vector<ProtectedCertificate>& protectedCertificates() const override;

    CardIdentity readIdentity(pcsc::ApduChannel& channel) const override;
    std::vector<TokenCertificate> readCertificates(pcsc::ApduChannel& channel) const override;
    TokenCertificate readProtectedCertificate(pcsc::ApduChannel& channel, std::string_view certificateId) const override;

    PinStatus pinStatus(pcsc::ApduChannel& channel, std::string_view pinId) const override;
    PinStatus verifyPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                        const PinCheck& check = {}) const override;
    PinStatus changePin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin, const PinInput& newPin,
                        const PinCheck& check = {}) const override;
    // unblockPin, unblockCodeStatus: Token's (UnsupportedOperation): the card
    // has no unblock code; a blocked PIN is reset at the municipal office.

    TokenSignature sign(pcsc::ApduChannel& channel, std::string_view certificateId, DigestAlgorithm algorithm,
                        pcsc::ByteView digest, const PinInput* pin, const PinCheck& check = {}) const override;
};

}  // namespace inkan::card
