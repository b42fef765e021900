#include "daemon/security/pin_guard.hpp"

#include <string>

#include "daemon/error.hpp"

namespace inkan::security {

void checkPinTries(const PinStatus& status, const PinGuardRequest& request)
{
    if (status.blocked || status.triesLeft <= 0) {
        throw Error(ErrorCode::PinBlocked, "the PIN is blocked; only the unblock code can reset it").withTriesLeft(0);
    }
    if (status.triesLeft > request.threshold) return;
    const std::string left = std::to_string(status.triesLeft) + (status.triesLeft == 1 ? " try is" : " tries are");
    if (!request.acknowledged) {
        throw Error(ErrorCode::PinGuard, "only " + left + " left before the card locks; inkand spends one only when "
                                         "the request sets \"acknowledgeLowTries\": true")
            .withTriesLeft(status.triesLeft);
    }
    if (!request.mayAcknowledge) {
        throw Error(ErrorCode::PinGuard, "only " + left + " left before the card locks, and this origin may not "
                                         "acknowledge that; use the inkan command on this computer")
            .withTriesLeft(status.triesLeft);
    }
}

}  // namespace inkan::security
