// inkan CLI — the places where a browser or the system looks for trusted CAs,
// and putting inkand's local CA into them or taking it out again.
//
// * the system store (Debian: /usr/local/share/ca-certificates + update-ca-certificates),
//   changed only when running as root;
// * NSS databases: the user's sql:$HOME/.pki/nssdb (Chrome, Chromium and other
//   NSS programs) and each Firefox profile, changed with certutil (libnss3-tools).
//
// The CA is always stored under one name (kTrustNickname / kSystemCaFileName),
// so status and uninstall find exactly what install put there.
//
// The places are the platform's: trust_store_linux.cpp finds and changes the
// ones above; a Windows build adds its own file with the current user's Root
// store (docs/windows.md "The trust store").
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client-sdk/cli/crypto.hpp"

namespace inkan::cli {

inline constexpr const char* kTrustNickname = "inkan local CA";
inline constexpr const char* kSystemCaDirectory = "/usr/local/share/ca-certificates";
inline constexpr const char* kSystemCaFileName = "inkan-local-ca.crt";

enum class TrustState {
    Trusted,     // our current CA is there and trusted for TLS servers
    Outdated,    // something under our name, but not the current CA (or not trusted)
    Absent,      // the store exists and does not hold it
    NoStore,     // the store itself does not exist (yet)
};

std::string_view trustStateName(TrustState state);  // "trusted", "outdated", "absent", "no-store"

struct TrustStatus {
    TrustState state = TrustState::Absent;
    std::string detail;  // e.g. "update-ca-certificates has not run"
};

class TrustPlace {
public:
    virtual ~TrustPlace() = default;

    /// "system", "nssdb" or "firefox".
    virtual std::string kind() const = 0;
    virtual std::filesystem::path location() const = 0;

    /// `ca` empty: inkand has no CA yet; anything under our name is outdated.
    virtual TrustStatus status(const std::optional<Certificate>& ca) const = 0;

    /// Why this place cannot be changed by this process (e.g. needs root), or nullopt.
    virtual std::optional<std::string> cannotChange() const { return std::nullopt; }

    /// Puts `ca` (read from caFile) in, replacing an outdated one. Failure(LocalIo) on error.
    virtual void install(const Certificate& ca, const std::filesystem::path& caFile) const = 0;

    /// Takes everything under our name out; false when there was nothing.
    virtual bool remove() const = 0;
};

/// The places to act on: only `nssdbOverride` when given (tests, one custom
/// database), else the system store, ~/.pki/nssdb and every Firefox profile.
std::vector<std::unique_ptr<TrustPlace>> findTrustPlaces(const std::filesystem::path& nssdbOverride);

}  // namespace inkan::cli
