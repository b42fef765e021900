// inkan — the card domain's value types: what a card's PIN looks like from
// outside, where a PIN comes from, which digests a card signs. The card
// profiles use them, and the layers above (service, security, API) pass them
// on; so they live here, below all of those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/secret.hpp"

namespace inkan {

// The same alias as daemon/pcsc/bytes.hpp (redeclaring an alias to the same
// type is allowed), so neither layer depends on the other for it.
using Bytes = std::vector<std::uint8_t>;

/// A PIN's (or the unblock code's) try counter, as the card tells it.
struct PinStatus {
    int triesLeft = 0;
    int maxTries = 0;
    bool blocked = false;
    /// A PKCS#11 token tells flags, not a counter (credentials.md): its
    /// maxTries is unknown, and its triesLeft too unless the token says this
    /// is the final try (1) or the PIN is locked (0). Unknown values are
    /// listed as null, never guessed.
    bool triesLeftKnown = true;
    bool maxTriesKnown = true;
    /// The token says a wrong PIN was entered since the last right one
    /// (CKF_USER_PIN_COUNT_LOW), without saying how many tries that cost.
    bool triesSpent = false;
};

/// What a card accepts as a PIN (or an unblock code): a length range over an
/// alphabet. A card profile states its rules (Token::pinFormat()); every layer
/// checks with them before anything reaches the card, so a value that can
/// never be right costs no try, and no layer above the card needs to know the
/// profile to check.
struct PinFormat {
    enum class Alphabet {
        Digits,             // 0-9
        UpperAlphanumeric,  // A-Z and 0-9
        Any,                // any bytes but ASCII control characters (a file's password)
    };
    std::size_t minLength = 0;
    std::size_t maxLength = 0;
    Alphabet alphabet = Alphabet::Digits;

    /// Throws Error(PinFormat), naming `what` ("PIN", "unblock code") and the
    /// rule, unless `value` fits. Sends nothing anywhere.
    void check(const Secret& value, std::string_view what) const;
    bool operator==(const PinFormat&) const = default;
};

/// The PIN guard's hook into a card operation that spends a PIN try (or an
/// unblock-code try): called with the counter the operation has just read,
/// without spending a try, inside the same card transaction and after the same
/// SELECT as the command that spends one; throwing stops the operation before
/// that command. Null: no check, and no read.
using PinCheck = std::function<void(const PinStatus& status)>;

/// A PIN or unblock code for one card operation: its value, or "typed on the
/// PIN pad of the reader", in which case inkand never sees it.
class PinInput {
public:
    PinInput(Secret value) : value_(std::move(value)) {}  // implicit: a value is the usual case
    static PinInput onPinpad() { return PinInput(); }

    bool isOnPinpad() const noexcept { return !value_.has_value(); }
    /// The value; only when !isOnPinpad().
    const Secret& value() const { return value_.value(); }
    /// Moves the value out; only when !isOnPinpad().
    Secret takeValue() { return std::move(value_.value()); }

private:
    PinInput() = default;
    std::optional<Secret> value_;
};

enum class DigestAlgorithm { Sha256, Sha384, Sha512 };

}  // namespace inkan
