// inkan — pairing: how a web origin that is not allowlisted gets access
// (docs/security.md "Pairing").
//
//   1. A page asks (POST /v1/pairings): a pending pairing with a random id and
//      a 6-digit code, which the page shows to the user.
//   2. The user approves it out of the page's reach — `inkan pair approve`
//      (a local client with the API token, typing the code the page shows) or
//      a pinentry confirmation dialog that shows the origin and the code.
//   3. The origin is then paired: stored with the operations and cards it
//      may use in <state>/pairings.json (0600, written atomically, no secrets),
//      until `inkan pair revoke`.
// Pending pairings live in memory only and expire after five minutes; an
// origin can hold only a few at a time, and a denied origin waits before it
// may ask again, so no page can flood the user with requests.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/security/policy.hpp"

namespace inkan::security {

struct Pairing {
    enum class Status { Pending, Approved, Denied, Expired };
    using Clock = std::chrono::system_clock;

    std::string id;      // 32 lower-case hex digits (128 random bits)
    std::string origin;  // serialized
    std::string code;    // 6 digits, shown to the user as "123 456"
    Status status = Status::Pending;
    Clock::time_point createdAt;
    Clock::time_point expiresAt;  // of the pending state
};

std::string_view pairingStatusName(Pairing::Status status);

/// "123456" -> "123 456", as people read it.
std::string displayCode(std::string_view code);

/// An origin the user approved.
struct PairedOrigin {
    OriginGrant grant;
    Pairing::Clock::time_point approvedAt;
};

struct PairingStoreOptions {
    /// Where approved origins persist; empty: in memory only (tests).
    std::filesystem::path file;
    std::chrono::seconds pendingLifetime{300};
    /// Pending pairings one origin may hold at once.
    int maxPendingPerOrigin = 3;
    /// Pending pairings in all.
    int maxPending = 32;
    /// How long a denied origin must wait before it may ask again.
    std::chrono::seconds deniedCooldown{300};
    /// Wrong codes an approval may try before the pairing is denied.
    int maxCodeAttempts = 3;
    /// How long a settled pairing can still be polled.
    std::chrono::seconds settledLifetime{300};
    std::function<Pairing::Clock::time_point()> now = Pairing::Clock::now;
    /// Receives problems with the file (unreadable, malformed entries skipped).
    std::function<void(const std::string&)> warn;
};

class PairingStore {
public:
    /// Loads the approved origins from the file, if any.
    explicit PairingStore(PairingStoreOptions options);

    /// A new pending pairing for `origin` (serialized and trustworthy: the
    /// caller checked). Throws PairingRateLimited (with retryAfterSeconds).
    Pairing request(const std::string& origin);

    /// The pairing with this id, its status brought up to date; nullopt
    /// when unknown or forgotten.
    std::optional<Pairing> find(std::string_view id);

    /// Approve with the code the user read off the page. Throws NotFound,
    /// PairingNotPending, PairingCodeIncorrect (with triesLeft; the last wrong
    /// code denies the pairing). Persists the origin.
    Pairing approve(std::string_view id, std::string_view code, OperationSet operations,
                    std::optional<std::vector<std::string>> cards);

    /// Approve after the user confirmed a dialog that showed the origin and
    /// the code; read and sign on every card. Throws like approve().
    Pairing approveConfirmed(std::string_view id);

    /// Deny a pending pairing. Throws NotFound, PairingNotPending.
    Pairing deny(std::string_view id);

    std::vector<Pairing> pending();
    std::vector<PairedOrigin> paired() const;
    std::optional<OriginGrant> grantFor(std::string_view origin) const;
    bool isPaired(std::string_view origin) const;

    /// Forget a paired origin (and deny its pending pairings). False when it was not paired.
    bool revoke(std::string_view origin);

    /// Called (without locks held) for every new pending pairing.
    void onRequested(std::function<void(const Pairing&)> callback);

private:
    void expire(Pairing::Clock::time_point now);  // caller holds mutex_
    void persist() const;                         // caller holds mutex_
    void load();
    Pairing& pendingById(std::string_view id);    // caller holds mutex_; throws
    Pairing settle(Pairing& pairing, OriginGrant grant);  // caller holds mutex_

    PairingStoreOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, Pairing, std::less<>> pairings_;
    std::map<std::string, int, std::less<>> wrongCodes_;                                   // by pairing id
    std::map<std::string, Pairing::Clock::time_point, std::less<>> deniedUntil_;           // by origin
    std::map<std::string, PairedOrigin, std::less<>> paired_;                              // by origin
    std::function<void(const Pairing&)> onRequested_;
};

/// RFC 3339 UTC ("2026-01-01T00:00:00Z").
std::string formatTime(Pairing::Clock::time_point time);

}  // namespace inkan::security
