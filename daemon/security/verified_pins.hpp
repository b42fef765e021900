// inkan — whose a card's verified PIN is (docs/security.md "A verified PIN
// belongs to whoever verified it").
//
// A card that accepted a VERIFY stays verified until it signs once or is
// reset, whoever talks to it next. So inkand remembers, per card, which
// principal verified it and when, and decides here:
//   * a signature without a PIN is for the principal whose verification came
//     immediately before on that card, within kVerifiedPinWindow, and uses it up;
//   * any other principal's operation on the card, and any operation after
//     the window, must first end the card's verification (the caller has the
//     agent reset the card) before it runs.
// Nothing here knows a card: CardAccess asks, the card service acts.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "daemon/security/policy.hpp"

namespace inkan::security {

/// How long a verification waits for its signature.
inline constexpr std::chrono::seconds kVerifiedPinWindow{30};

/// Who a verified PIN belongs to. Principals are compared by this and nothing
/// else: the same kind, the same origin and, for the console, the same login
/// session (two sessions are two holders).
struct PinHolder {
    Principal::Kind kind = Principal::Kind::LocalClient;
    std::string origin;
    std::string session;  // the console's login session: another console tab logged in anew is another holder

    static PinHolder of(const Principal& principal)
    {
        return PinHolder{principal.kind, principal.origin, principal.session};
    }
    bool operator==(const PinHolder&) const = default;
};

class VerifiedPins {
public:
    using Clock = std::chrono::steady_clock;
    using Now = std::function<Clock::time_point()>;

    explicit VerifiedPins(Now now = Clock::now, Clock::duration window = kVerifiedPinWindow);

    /// `holder` has just verified PIN `pinId` of `cardId`: the card is verified, for it.
    void verified(const std::string& cardId, const std::string& pinId, const PinHolder& holder);

    /// Before `holder`'s operation on `cardId`: true when the card may still
    /// be verified for someone else (another holder, or `holder` past the
    /// window). The record is forgotten; the caller ends the card's
    /// verification before the operation runs.
    bool mustEndFor(const std::string& cardId, const PinHolder& holder);

    /// A signature without a PIN by `holder` with a key guarded by `pinId`:
    /// true, and the verification is used up, when `holder` verified that PIN
    /// of the card last and within the window.
    bool takeForSignature(const std::string& cardId, const std::string& pinId, const PinHolder& holder);

    /// The card's verification is over or replaced (another PIN operation
    /// on it, a failed VERIFY).
    void forget(const std::string& cardId);

private:
    struct Record {
        PinHolder holder;
        std::string pinId;
        Clock::time_point at;
    };

    bool current(const Record& record, const PinHolder& holder) const;

    Now now_;
    Clock::duration window_;
    std::mutex mutex_;
    std::map<std::string, Record> records_;
};

}  // namespace inkan::security
