#include "daemon/security/verified_pins.hpp"

#include <utility>

namespace inkan::security {

VerifiedPins::VerifiedPins(Now now, Clock::duration window) : now_(std::move(now)), window_(window) {}

void VerifiedPins::verified(const std::string& cardId, const std::string& pinId, const PinHolder& holder)
{
    const std::lock_guard lock(mutex_);
    records_.insert_or_assign(cardId, Record{holder, pinId, now_()});
}

bool VerifiedPins::current(const Record& record, const PinHolder& holder) const
{
    return record.holder == holder && now_() - record.at <= window_;
}

bool VerifiedPins::mustEndFor(const std::string& cardId, const PinHolder& holder)
{
    const std::lock_guard lock(mutex_);
    const auto it = records_.find(cardId);
    if (it == records_.end() || current(it->second, holder)) return false;
    records_.erase(it);
    return true;
}

bool VerifiedPins::takeForSignature(const std::string& cardId, const std::string& pinId, const PinHolder& holder)
{
    const std::lock_guard lock(mutex_);
    const auto it = records_.find(cardId);
    if (it == records_.end()) return false;
    const bool mine = current(it->second, holder) && it->second.pinId == pinId;
    if (mine) records_.erase(it);
    return mine;
}

void VerifiedPins::forget(const std::string& cardId)
{
    const std::lock_guard lock(mutex_);
    records_.erase(cardId);
}

}  // namespace inkan::security
