#include "daemon/security/pin_guard.hpp"

#include <string>

#include "daemon/error.hpp"

namespace inkan::security {

namespace {

void checkThreshold(const PinStatus& status, const PinGuardRequest& request, const std::string& lockout)
{
    if (status.triesLeft > request.threshold) return;
    const std::string left = std::to_string(status.triesLeft) + (status.triesLeft == 1 ? " try is" : " tries are");
    if (!request.acknowledged) {
        throw Error(ErrorCode::PinGuard, "only " + left + " left before " + lockout + "; inkand spends one only when "
                                         "the request sets \"acknowledgeLowTries\": true")
            .withTriesLeft(status.triesLeft);
    }
    if (!request.mayAcknowledge) {
        throw Error(ErrorCode::PinGuard, "only " + left + " left before " + lockout + ", and this origin may not "
                                         "acknowledge that; use the inkan command on this computer")
            .withTriesLeft(status.triesLeft);
    }
}

}  // namespace

void checkPinTries(const PinStatus& status, const PinGuardRequest& request)
{
    if (status.blocked || status.triesLeft <= 0) {
        throw Error(ErrorCode::PinBlocked, "the PIN is blocked; only the unblock code can reset it").withTriesLeft(0);
    }
    checkThreshold(status, request, "the card locks");
}

void checkUnblockCodeTries(const PinStatus& status, const PinGuardRequest& request)
{
    if (status.blocked || status.triesLeft <= 0) {
        throw Error(ErrorCode::UnblockCodeBlocked, "the unblock code is blocked; the card must be reissued")
            .withTriesLeft(0);
    }
    checkThreshold(status, request, "the unblock code locks and the card must be reissued");
}

}  // namespace inkan::security
