// inkan CLI — what the PIN-spending commands (sign, pin change) check first.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "client-sdk/cli/session.hpp"

namespace inkan::cli {

/// At or below this many tries left, a command that spends one warns first.
inline constexpr long long kFewTriesLeft = 3;

/// "10 of 10 tries left" or "blocked".
std::string pinSummary(const nlohmann::json& pin);

/// Reads the PIN status (spends no try). Failure(PinRefused) when the PIN is
/// blocked, so the user is not asked for a PIN the card would refuse anyway;
/// a warning on stderr when only a few tries are left.
nlohmann::json checkPinBeforeSpendingATry(Session& session, const std::string& operation);

/// The same for the unblock code's own counter (GET …/unblock-code):
/// Failure(PinRefused) as UNBLOCK_CODE_BLOCKED when it is blocked.
nlohmann::json checkUnblockCodeBeforeSpendingATry(Session& session);

/// Whether `pin` (a PIN status) has kFewTriesLeft or fewer tries left: the
/// user has been warned, and the request says so to inkand's PIN guard
/// ("acknowledgeLowTries", docs/security.md), which refuses otherwise.
bool fewTriesLeft(const nlohmann::json& pin);

}  // namespace inkan::cli
