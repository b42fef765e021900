#include "daemon/security/rate_limiter.hpp"

#include <algorithm>

namespace inkan::security {

namespace {

// While only reservations (no recorded failures) fill the quota, the caller
// is asked to come back shortly: the running attempt settles within seconds.
constexpr int kBusyRetrySeconds = 1;

}  // namespace

FailureLimiter::FailureLimiter(int maxFailures, Clock::duration window, Now now)
    : maxFailures_(std::max(1, maxFailures)), window_(window), now_(std::move(now))
{
}

FailureLimiter::Attempt::~Attempt()
{
    if (!settled_) limiter_.settle(key_, false);
}

void FailureLimiter::Attempt::settle(bool failed)
{
    if (settled_) return;
    settled_ = true;
    limiter_.settle(key_, failed);
}

void FailureLimiter::expire(Entry& entry, Clock::time_point now)
{
    while (!entry.failures.empty() && now - entry.failures.front() >= window_) entry.failures.pop_front();
}

FailureLimiter::Admission FailureLimiter::begin(const std::string& key)
{
    const std::lock_guard lock(mutex_);
    const auto now = now_();
    Entry& entry = entries_[key];
    expire(entry, now);
    const int used = static_cast<int>(entry.failures.size()) + entry.pending;
    if (used >= maxFailures_) {
        Admission refused;
        if (entry.failures.empty()) {
            refused.retryAfterSeconds = kBusyRetrySeconds;
        } else {
            const auto wait = entry.failures.front() + window_ - now;
            const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
            refused.retryAfterSeconds = static_cast<int>(std::max<long long>(1, seconds));
        }
        return refused;
    }
    ++entry.pending;
    Admission admitted;
    admitted.attempt = std::shared_ptr<Attempt>(new Attempt(*this, key));
    return admitted;
}

void FailureLimiter::settle(const std::string& key, bool failed)
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    if (entry.pending > 0) --entry.pending;
    const auto now = now_();
    if (failed) entry.failures.push_back(now);
    expire(entry, now);
    if (entry.pending == 0 && entry.failures.empty()) entries_.erase(it);
}

int FailureLimiter::recentFailures(const std::string& key)
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return 0;
    expire(it->second, now_());
    return static_cast<int>(it->second.failures.size());
}

}  // namespace inkan::security
