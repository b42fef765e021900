// inkan tests — a CardSummary as the card service describes a reference card,
// for the fake card agents: its profile and its PIN rules (which the security
// layer checks before anything reaches the card).
#pragma once

#include <string>

#include "daemon/card/reference_card.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::testing {

inline CardSummary referenceCardSummary(std::string id)
{
    const card::ReferenceCard profile;
    CardSummary card;
    card.id = std::move(id);
    card.profile = std::string(profile.profileId());
    card.pinFormat = profile.pinFormat();
    card.unblockCodeFormat = profile.unblockCodeFormat();
    return card;
}

}  // namespace inkan::testing
