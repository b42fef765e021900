// What every card profile shares: lookups in its PIN and key tables, and the
// answers of a card that lacks an operation (UnsupportedOperation, before any APDU).
#include "daemon/card/token.hpp"

#include <algorithm>
#include <string>

#include "daemon/error.hpp"

namespace inkan::card {

const PinInfo& Token::pin(std::string_view pinId) const
{
    const auto& all = pins();
    const auto it = std::find_if(all.begin(), all.end(), [&](const PinInfo& p) { return p.id == pinId; });
    if (it == all.end()) throw Error(ErrorCode::NotFound, "the card has no PIN with this id");
    return *it;
}

const KeyInfo& Token::key(std::string_view certificateId) const
{
    const auto& all = keys();
    const auto it = std::find_if(all.begin(), all.end(), [&](const KeyInfo& k) { return k.certificateId == certificateId; });
    if (it == all.end()) throw Error(ErrorCode::BadRequest, "the card has no signing key for this certificate");
    return *it;
}

TokenCertificate Token::readProtectedCertificate(pcsc::ApduChannel&, std::string_view) const
{
    throw Error(ErrorCode::NotFound, "the card has no certificate with this id");
}

namespace {

Error cannotUnblock(const PinInfo& pin)
{
    return Error(ErrorCode::UnsupportedOperation,
                 "the card cannot unblock its " + pin.label + ": it has no unblock code (the card's issuer resets it)");
}

}  // namespace

PinStatus Token::unblockCodeStatus(pcsc::ApduChannel&, std::string_view pinId) const
{
    throw cannotUnblock(pin(pinId));
}

PinStatus Token::unblockPin(pcsc::ApduChannel&, std::string_view pinId, const PinInput&, const PinInput&,
                            const PinCheck&) const
{
    throw cannotUnblock(pin(pinId));
}

}  // namespace inkan::card
