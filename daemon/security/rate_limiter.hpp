// inkan — counting failures per key (here: wrong PINs per web origin) in a
// sliding window, so a page cannot spend a card's PIN tries faster than a
// person mistyping would.
//
// An attempt is reserved before it reaches the card and settled afterwards,
// so parallel requests cannot slip past the limit together: at most
// `maxFailures` attempts are ever unsettled-or-failed within the window.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace inkan::security {

class FailureLimiter {
public:
    using Clock = std::chrono::steady_clock;
    using Now = std::function<Clock::time_point()>;

    FailureLimiter(int maxFailures, Clock::duration window, Now now = Clock::now);

    /// One reserved attempt; settle() it with its outcome. Destroyed unsettled
    /// (the operation never got to the card), it counts as no failure.
    class Attempt {
    public:
        ~Attempt();
        Attempt(const Attempt&) = delete;
        Attempt& operator=(const Attempt&) = delete;
        void settle(bool failed);

    private:
        friend class FailureLimiter;
        Attempt(FailureLimiter& limiter, std::string key) : limiter_(limiter), key_(std::move(key)) {}
        FailureLimiter& limiter_;
        std::string key_;
        bool settled_ = false;
    };

    /// Reserves an attempt for `key`, or returns the seconds to wait (at
    /// least 1) when the key has used up its attempts for now.
    struct Admission {
        std::shared_ptr<Attempt> attempt;      // set when admitted
        std::optional<int> retryAfterSeconds;  // set when refused
    };
    Admission begin(const std::string& key);

    /// Failures of `key` still inside the window.
    int recentFailures(const std::string& key);

private:
    struct Entry {
        std::deque<Clock::time_point> failures;
        int pending = 0;
    };
    void settle(const std::string& key, bool failed);
    void expire(Entry& entry, Clock::time_point now);

    const int maxFailures_;
    const Clock::duration window_;
    const Now now_;
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

}  // namespace inkan::security
