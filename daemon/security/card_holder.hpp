// inkan — whose card it is, in the words a PIN dialog shows: the company's
// 商号 from the commercial registry certificate (registeredCorporationInfo
// [0]), else the certificate subject's O, else its CN, else the card label.
#pragma once

#include <string>

#include "daemon/service/card_agent.hpp"

namespace inkan::security {

/// The holder of `card`, taken from its signing certificate (the first one listed).
std::string cardHolderName(const CardSummary& card);

}  // namespace inkan::security
