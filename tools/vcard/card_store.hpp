// inkan-vcard — what a virtual card remembers between runs: its signing key and
// certificates, its serial number, and its PIN and unblock-code state.
//
// Lives in a state directory:
//   card.json         serial, and per PIN: salt, SHA-256(salt || PIN), tries left (0600)
//   signing-key.pem   the RSA-2048 signing key, PKCS#8 PEM (0600)
//   signing-cert.pem  its certificate (EF C001)
//   ca-cert.pem       the issuing CA's certificate (EF C002)
//   demo-ca-key.pem   the demo CA's key, so tests can issue renewed leaves under the same CA (0600)
// Every file is written atomically (temporary file, fsync, rename), so a crash
// never leaves a half-written counter. PIN values are never stored in clear.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/secret.hpp"
#include "tools/vcard/bytes.hpp"
#include "tools/vcard/card_files.hpp"
#include "tools/vcard/openssl_handles.hpp"

namespace inkan::vcard {

/// PIN references of the reference card (docs/reference-card.md, "PINs").
enum class PinReference : std::uint8_t {
    User = 0x81,     // user PIN, 4-16 digits
    Unblock = 0x82,  // unblock code (PUK), 8 digits
};

/// Both counters start at (and are restored to) this many tries (spec: "tries
/// 10"), unless the card was made with another maximum (StoreOptions::maxTries).
inline constexpr int kMaxPinTries = 10;
/// The largest maximum a card can have: 63Cx tells tries left in one nibble.
inline constexpr int kMaxPinTriesLimit = 15;

/// The card serial number, EF D001 (spec: "8 bytes, binary").
using CardSerial = std::array<std::uint8_t, 8>;

/// Parses exactly 16 hex digits into a serial; nullopt otherwise.
std::optional<CardSerial> parseCardSerial(std::string_view hex);

struct StoreOptions {
    std::filesystem::path stateDir;
    /// Use this key and certificate instead of the ones in the state directory
    /// (both or neither). The state directory still holds the PIN state and serial.
    std::optional<std::filesystem::path> keyFile;
    std::optional<std::filesystem::path> certFile;
    /// The CA certificate shown as EF C002 with keyFile/certFile; EF C002 is absent without it.
    std::optional<std::filesystem::path> caCertFile;
    /// Overrides the stored serial for this run only (it is not written back).
    std::optional<CardSerial> serialOverride;
    /// The maximum of tries of both counters, 1..kMaxPinTriesLimit, for a new
    /// card (stored with it); for an existing card it must match the stored one.
    std::optional<int> maxTries{};
};

class CardStore {
public:
    /// Opens the state directory, creating it (mode 0700) and the demo card on
    /// first use: serial, PIN 1234, unblock code 12345678, 10/10 tries, and the
    /// demo credentials unless keyFile/certFile are given.
    static CardStore open(const StoreOptions& options);

    CardStore(CardStore&&) noexcept = default;
    CardStore& operator=(CardStore&&) noexcept = default;
    ~CardStore() = default;

    const Bytes& signingCertificate() const noexcept { return signingCertDer_; }
    const std::optional<Bytes>& caCertificate() const noexcept { return caCertDer_; }
    const CardSerial& serial() const noexcept { return serial_; }

    /// RSASSA-PKCS1-v1_5 signature block over `digestInfo` as given (the caller
    /// has checked it is a DigestInfo; the key adds only the type-1 padding).
    Bytes sign(ByteView digestInfo) const;

    int triesLeft(PinReference ref) const noexcept { return record(ref).triesLeft; }
    /// What the counter starts at and is restored to.
    int maxTries(PinReference ref) const noexcept { return record(ref).maxTries; }

    /// Spends one try and persists that before comparing (so cutting power
    /// mid-command cannot save a try), then compares in constant time. On a
    /// match the counter is restored to its maximum and persisted.
    /// Precondition: triesLeft(ref) > 0. Throws StoreError when it cannot persist.
    bool checkPin(PinReference ref, const Secret& candidate);

    /// Sets a new value with a fresh salt and restores the counter. Persisted.
    void setPin(PinReference ref, const Secret& value);

private:
    CardStore() = default;
    StoredPin& record(PinReference ref) noexcept { return ref == PinReference::User ? userPin_ : unblockCode_; }
    const StoredPin& record(PinReference ref) const noexcept
    {
        return ref == PinReference::User ? userPin_ : unblockCode_;
    }
    void loadOrCreateCardState(std::optional<int> maxTries);
    void assignPin(PinReference ref, const Secret& value);
    void loadCredentials(const StoreOptions& options);
    void saveCardState() const;

    std::filesystem::path stateDir_;
    CardSerial storedSerial_{};
    CardSerial serial_{};
    StoredPin userPin_;
    StoredPin unblockCode_;
    ossl::PkeyPtr signingKey_;
    Bytes signingCertDer_;
    std::optional<Bytes> caCertDer_;
};

}  // namespace inkan::vcard
