// inkan — the PIN guard: never spend one of a card's last PIN tries unless
// the caller said it means to (docs/security.md "PIN guard").
//
// The card locks after its last wrong PIN, and only the vendor's helpdesk
// unlocks it. So before every PIN attempt inkand reads the try counter (a
// VERIFY without data: it spends nothing) and refuses while only a few tries
// are left, unless the request acknowledges the risk and its origin may do so.
#pragma once

#include <optional>

#include "daemon/service/card_agent.hpp"

namespace inkan::security {

struct PinGuardRequest {
    /// Refuse at or below this many tries left; none: the default for the
    /// counter's maximum (defaultGuardThreshold). Never more than maxTries - 1,
    /// so a full counter always allows one try.
    std::optional<int> threshold;
    bool acknowledged = false;         // the request says "acknowledgeLowTries": true
    bool mayAcknowledge = false;       // the caller's policy lets it say so
    bool unblockable = true;           // the card can unblock the PIN (for the message)
};

/// The default guard for a counter of `maxTries`: keep 30% of the tries,
/// rounded, at least one, unspent. A 3-try PIN keeps its last try, a 5-try
/// PIN its last 2, a 10-try PIN its last 3.
int defaultGuardThreshold(int maxTries);

/// The threshold `request` applies to a counter of `maxTries`.
int guardThreshold(const PinGuardRequest& request, int maxTries);

/// Throws PinBlocked when the PIN is blocked, PinGuard (with triesLeft) when
/// at most the threshold's tries are left and the request may not go ahead.
void checkPinTries(const PinStatus& status, const PinGuardRequest& request);

/// The same for the unblock code's counter, which guards the card itself:
/// after its last wrong try the card must be reissued. Throws
/// UnblockCodeBlocked when it is blocked, PinGuard as above.
void checkUnblockCodeTries(const PinStatus& status, const PinGuardRequest& request);

}  // namespace inkan::security
