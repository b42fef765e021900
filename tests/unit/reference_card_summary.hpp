// inkan tests — a CardSummary as the card service describes a reference card,
// for the fake card agents: its profile, its one PIN with its rules (which
// the security layer checks before anything reaches the card) and its
// signing key's certificate id.
#pragma once

#include <string>

#include "daemon/card/reference_card.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::testing {

inline CardSummary referenceCardSummary(std::string id, PinStatus pin = PinStatus{10, 10, false})
{
    const card::ReferenceCard profile;
    CardSummary card;
    card.id = std::move(id);
    card.profile = std::string(profile.profileId());
    for (const auto& info : profile.pins()) card.pins.push_back({info.id, info.label, pin, info.format, info.unblockCodeFormat});
    card.signingCertificateId = profile.keys().front().certificateId;
    return card;
}

/// `certificate` as the reference card lists its signing certificate: with the key's PIN.
inline CertificateSummary withReferenceKey(CertificateSummary certificate)
{
    const card::ReferenceCard profile;
    certificate.keyPin = profile.keys().front().pinId;
    return certificate;
}

}  // namespace inkan::testing
