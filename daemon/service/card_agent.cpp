// Lookups in a card's summary (card_agent.hpp).
#include "daemon/service/card_agent.hpp"

#include <algorithm>

#include "daemon/error.hpp"

namespace inkan {

const PinSummary& CardSummary::pin(const std::string& pinId) const
{
    const auto it = std::find_if(pins.begin(), pins.end(), [&](const PinSummary& p) { return p.id == pinId; });
    if (it == pins.end()) throw Error(ErrorCode::NotFound, "the card has no PIN with this id");
    return *it;
}

const PinSummary& CardSummary::keyPin(const std::optional<std::string>& certificateId) const
{
    const auto& id = certificateId.value_or(signingCertificateId);
    const auto it = std::find_if(certificates.begin(), certificates.end(),
                                 [&](const CertificateSummary& c) { return c.id == id; });
    if (it == certificates.end()) throw Error(ErrorCode::NotFound, "the card has no certificate with this id");
    if (!it->keyPin) throw Error(ErrorCode::BadRequest, "the card has no signing key for this certificate");
    return pin(*it->keyPin);
}

}  // namespace inkan
