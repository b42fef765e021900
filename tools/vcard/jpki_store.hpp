// inkan-vcard — what the virtual JPKI card (jpki_card.hpp) remembers between
// runs: its two key pairs, four certificates and two PIN counters.
//
// Lives in the state directory (--state), next to (never instead of) the
// reference card's files:
//   jpki-card.json          per PIN (auth, sign): salt, SHA-256(salt || PIN), tries left (0600)
//   jpki-auth-key.pem       user authentication key, EF 0017 (0600)
//   jpki-auth-cert.pem      its certificate, EF 000A
//   jpki-auth-ca-cert.pem   the demo CA that issued it, EF 000B
//   jpki-sign-key.pem       digital signature key, EF 001A (0600)
//   jpki-sign-cert.pem      its certificate, EF 0001
//   jpki-sign-ca-cert.pem   the demo CA that issued it, EF 0002
//   jpki-*-ca-key.pem       the demo CAs' keys, to issue renewed leaves (0600)
// A new card starts with the demo PINs: auth 1234 (3 tries), sign ABC123 (5 tries).
#pragma once

#include <filesystem>
#include <string_view>

#include "daemon/secret.hpp"
#include "tools/vcard/bytes.hpp"
#include "tools/vcard/card_files.hpp"
#include "tools/vcard/openssl_handles.hpp"

namespace inkan::vcard::jpki {

/// The card's two key pairs, each guarded by its own PIN.
enum class KeyPair { Auth, Sign };

/// Maximum tries (OpenSC jpki.h: JPKI_AUTH_PIN_MAX_TRIES 3, JPKI_SIGN_PIN_MAX_TRIES 5).
inline constexpr int kAuthPinMaxTries = 3;
inline constexpr int kSignPinMaxTries = 5;

/// The demo card's factory PINs (documented in docs/jpki.md).
inline constexpr std::string_view kDemoAuthPin = "1234";
inline constexpr std::string_view kDemoSignPin = "ABC123";

class JpkiStore {
public:
    /// Opens the state directory, creating it (0700) and the demo card on first use.
    static JpkiStore open(const std::filesystem::path& stateDir);

    JpkiStore(JpkiStore&&) noexcept = default;
    JpkiStore& operator=(JpkiStore&&) noexcept = default;
    ~JpkiStore() = default;

    const Bytes& certificate(KeyPair pair) const noexcept { return entry(pair).certificate; }
    const Bytes& caCertificate(KeyPair pair) const noexcept { return entry(pair).caCertificate; }

    /// RSASSA-PKCS1-v1_5 over `digestInfo` with the pair's key (the card pads).
    Bytes sign(KeyPair pair, ByteView digestInfo) const;

    int triesLeft(KeyPair pin) const noexcept { return entry(pin).pin.triesLeft; }
    int maxTries(KeyPair pin) const noexcept { return entry(pin).pin.maxTries; }

    /// Spends one try and persists that before comparing; a match restores the
    /// counter. Precondition: triesLeft(pin) > 0. Throws StoreError when it cannot persist.
    bool checkPin(KeyPair pin, const Secret& candidate);
    /// A new value; the counter restored. Persisted.
    void setPin(KeyPair pin, const Secret& value);

private:
    struct Entry {
        ossl::PkeyPtr key;
        Bytes certificate;
        Bytes caCertificate;
        StoredPin pin;
    };

    JpkiStore() = default;
    Entry& entry(KeyPair pair) noexcept { return pair == KeyPair::Auth ? auth_ : sign_; }
    const Entry& entry(KeyPair pair) const noexcept { return pair == KeyPair::Auth ? auth_ : sign_; }
    void loadCredentials();
    void loadOrCreatePins();
    void savePins() const;

    std::filesystem::path stateDir_;
    Entry auth_;
    Entry sign_;
};

}  // namespace inkan::vcard::jpki
