// inkan — the PIN guard: never spend one of a card's last PIN tries unless
// the caller said it means to (docs/security.md "PIN guard").
//
// The card locks after its last wrong PIN, and only the vendor's helpdesk
// unlocks it. So before every PIN attempt inkand reads the try counter (a
// VERIFY without data: it spends nothing) and refuses while only a few tries
// are left, unless the request acknowledges the risk and its origin may do so.
#pragma once

#include "daemon/service/card_agent.hpp"

namespace inkan::security {

struct PinGuardRequest {
    int threshold = 3;                 // refuse at or below this many tries left
    bool acknowledged = false;         // the request says "acknowledgeLowTries": true
    bool mayAcknowledge = false;       // the caller's policy lets it say so
};

/// Throws PinBlocked when the PIN is blocked, PinGuard (with triesLeft) when
/// at most `threshold` tries are left and the request may not go ahead.
void checkPinTries(const PinStatus& status, const PinGuardRequest& request);

/// The same for the unblock code's counter, which guards the card itself:
/// after its last wrong try the card must be reissued. Throws
/// UnblockCodeBlocked when it is blocked, PinGuard as above.
void checkUnblockCodeTries(const PinStatus& status, const PinGuardRequest& request);

}  // namespace inkan::security
