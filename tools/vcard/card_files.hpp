// inkan-vcard — the files a virtual card keeps in its state directory, and the
// one thing it does with a key: PKCS#1 v1.5 signing. Shared by the reference
// card's store (card_store.hpp) and the JPKI card's (jpki_store.hpp).
//
// Every file is written atomically (temporary file, fsync, rename), so a crash
// never leaves a half-written counter. PIN values are never stored in clear:
// a StoredPin keeps a random salt and SHA-256(salt || PIN).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/secret.hpp"
#include "tools/vcard/bytes.hpp"
#include "tools/vcard/openssl_handles.hpp"

namespace inkan::vcard {

/// Thrown when the state directory or a given key/certificate cannot be used.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::filesystem::perms kPrivateFile =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
inline constexpr std::filesystem::perms kPublicFile =
    kPrivateFile | std::filesystem::perms::group_read | std::filesystem::perms::others_read;

/// Writes `content` to `path` atomically with the given mode: a temporary file
/// in the same directory, fsync, rename over `path`, fsync of the directory.
void writeFileAtomically(const std::filesystem::path& path, ByteView content, std::filesystem::perms mode);
/// The whole file; StoreError when it cannot be read.
Bytes readFile(const std::filesystem::path& path);
/// A JSON state file; StoreError when unreadable or not JSON (never a silent default).
nlohmann::json readJsonFile(const std::filesystem::path& path);
/// Pretty-printed JSON, written atomically and private (0600).
void writeJsonFile(const std::filesystem::path& path, const nlohmann::json& value);
/// Creates the directory (0700: it holds keys and PIN hashes) unless it exists.
void ensurePrivateDirectory(const std::filesystem::path& dir);

/// An unencrypted PEM private key (never prompts for a passphrase).
ossl::PkeyPtr loadPrivateKey(const std::filesystem::path& path);
/// PKCS#8 PEM, 0600.
void writePrivateKey(const std::filesystem::path& path, EVP_PKEY* key);
/// A certificate file in PEM or DER; returns its DER.
Bytes loadCertificateDer(const std::filesystem::path& path);
/// PEM, world-readable like any certificate.
void writeCertificate(const std::filesystem::path& path, X509* cert);

/// The card's keys are RSA-2048 (a signature is 256 bytes). StoreError otherwise.
void requireRsa2048(EVP_PKEY* key, const std::string& where);
/// StoreError unless `certDer` certifies `key`.
void requireMatchingPair(EVP_PKEY* key, const Bytes& certDer, const std::string& where);

/// RSASSA-PKCS1-v1_5 signature block over `digestInfo` as given (the caller has
/// checked it is a DigestInfo; the key adds only the type-1 padding, RFC 8017 §8.2.1).
Bytes signPkcs1v15(EVP_PKEY* key, ByteView digestInfo);

/// Exactly `N` bytes from a hex string field of a state file.
template <std::size_t N>
std::array<std::uint8_t, N> fixedHex(const nlohmann::json& value, const std::string& field)
{
    if (!value.is_string()) throw StoreError(field + " missing");
    const auto bytes = fromHex(value.get<std::string>());
    if (!bytes || bytes->size() != N) throw StoreError(field + " malformed");
    std::array<std::uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

/// One PIN (or unblock code) as a card remembers it: salted digest and counter.
struct StoredPin {
    std::array<std::uint8_t, 16> salt{};
    std::array<std::uint8_t, 32> digest{};  // SHA-256(salt || value)
    int triesLeft = 0;
    int maxTries = 0;

    /// A new value with a fresh salt; the counter back to maxTries.
    void assign(std::string_view value);
    /// Constant-time comparison; touches no counter.
    bool matches(const Secret& candidate) const;
    /// What a card does on VERIFY: spends one try and persists that before
    /// comparing (so cutting power mid-command cannot save a try); a match
    /// restores the counter and persists again. Precondition: triesLeft > 0.
    template <typename Persist>
    bool spendTryAndCheck(const Secret& candidate, Persist&& persist)
    {
        if (triesLeft <= 0) throw StoreError("PIN check on a blocked PIN");
        --triesLeft;
        persist();
        const bool match = matches(candidate);
        if (match) {
            triesLeft = maxTries;
            persist();
        }
        return match;
    }

    nlohmann::json toJson() const;
    /// Reads salt, digest, the maximum (1..maxTriesLimit; `defaultMaxTries`
    /// for a file written before the maximum was stored) and the tries left
    /// (0..maximum); `where` names the field in errors.
    static StoredPin fromJson(const nlohmann::json& json, const std::string& where, int defaultMaxTries,
                              int maxTriesLimit);
};

/// An exclusive advisory lock on a state directory, held while the object
/// lives: two virtual cards sharing one directory would corrupt the counters.
class StateDirLock {
public:
    /// Throws StoreError when another process holds the lock.
    explicit StateDirLock(const std::filesystem::path& stateDir);
    ~StateDirLock();
    StateDirLock(const StateDirLock&) = delete;
    StateDirLock& operator=(const StateDirLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace inkan::vcard
