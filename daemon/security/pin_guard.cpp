#include "daemon/security/pin_guard.hpp"

#include <algorithm>
#include <string>

#include "daemon/error.hpp"

namespace inkan::security {

namespace {

// The default keeps this share of a counter's tries (in tenths), rounded.
constexpr int kGuardedTenths = 3;

void checkThreshold(const PinStatus& status, const PinGuardRequest& request, const std::string& lockout)
{
    // A token that tells no counter has nothing to guard until it says "final try".
    if (!status.triesLeftKnown) return;
    // Without a maximum there is no share to keep: the final try is guarded.
    const int threshold = status.maxTriesKnown ? guardThreshold(request, status.maxTries)
                                               : std::max(0, request.threshold.value_or(1));
    if (status.triesLeft > threshold) return;
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

int defaultGuardThreshold(int maxTries)
{
    return std::max(1, (kGuardedTenths * maxTries + 5) / 10);
}

int guardThreshold(const PinGuardRequest& request, int maxTries)
{
    const int wanted = request.threshold.value_or(defaultGuardThreshold(maxTries));
    return std::max(0, std::min(wanted, maxTries - 1));
}

void checkPinTries(const PinStatus& status, const PinGuardRequest& request)
{
    if (status.blocked || (status.triesLeftKnown && status.triesLeft <= 0)) {
        throw Error(ErrorCode::PinBlocked, request.unblockable
                                               ? "the PIN is blocked; only the unblock code can reset it"
                                               : "the PIN is blocked; only the card's issuer can reset it")
            .withTriesLeft(0);
    }
    checkThreshold(status, request, request.unblockable ? "the card locks" : "the PIN locks for good");
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
