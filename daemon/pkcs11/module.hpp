// inkan — one PKCS#11 module as the token agent (pkcs11_tokens.hpp) uses it:
// the few calls inkan needs, with PKCS#11's own values (slot ids, CK_RV,
// token flags, mechanism and key types) and no PKCS#11 header. The helper
// process implements it (helper_module.hpp); unit tests script it.
//
// Every call either answers (a CK_RV of the module's, CKR_OK or not) or
// throws inkan::Error: TokenModuleFailed when the module crashed or hung.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/card/types.hpp"
#include "daemon/secret.hpp"

namespace inkan::pkcs11 {

// PKCS#11 v2.40 values inkand interprets (pkcs11.h; the helper passes them on as they are).
inline constexpr std::uint64_t kCkrOk = 0x00;
inline constexpr std::uint64_t kCkrFunctionNotSupported = 0x54;
inline constexpr std::uint64_t kCkrDeviceRemoved = 0x32;
inline constexpr std::uint64_t kCkrSessionHandleInvalid = 0xB3;
inline constexpr std::uint64_t kCkrSlotIdInvalid = 0x03;
inline constexpr std::uint64_t kCkrTokenNotPresent = 0xE0;
inline constexpr std::uint64_t kCkrTokenNotRecognized = 0xE1;
inline constexpr std::uint64_t kCkrPinIncorrect = 0xA0;
inline constexpr std::uint64_t kCkrPinInvalid = 0xA1;
inline constexpr std::uint64_t kCkrPinLenRange = 0xA2;
inline constexpr std::uint64_t kCkrPinExpired = 0xA3;
inline constexpr std::uint64_t kCkrPinLocked = 0xA4;
inline constexpr std::uint64_t kCkrKeyHandleInvalid = 0x60;
inline constexpr std::uint64_t kCkrMechanismInvalid = 0x70;
inline constexpr std::uint64_t kCkrFunctionCanceled = 0x50;
inline constexpr std::uint64_t kCkrUserPinNotInitialized = 0x102;

inline constexpr std::uint64_t kCkfLoginRequired = 1UL << 2;
inline constexpr std::uint64_t kCkfUserPinInitialized = 1UL << 3;
inline constexpr std::uint64_t kCkfProtectedAuthenticationPath = 1UL << 8;
inline constexpr std::uint64_t kCkfUserPinCountLow = 1UL << 16;
inline constexpr std::uint64_t kCkfUserPinFinalTry = 1UL << 17;
inline constexpr std::uint64_t kCkfUserPinLocked = 1UL << 18;
inline constexpr std::uint64_t kCkfUserPinToBeChanged = 1UL << 19;

inline constexpr std::uint64_t kCkkRsa = 0x00;
inline constexpr std::uint64_t kCkkEc = 0x03;
inline constexpr std::uint64_t kCkmRsaPkcs = 0x01;
inline constexpr std::uint64_t kCkmRsaX509 = 0x03;
inline constexpr std::uint64_t kCkmEcdsa = 0x1041;

/// A slot with a token in it (C_GetSlotList(CK_TRUE), C_GetSlotInfo, C_GetTokenInfo).
struct SlotToken {
    std::uint64_t slot = 0;
    std::string slotDescription;
    std::string label;
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::uint64_t flags = 0;
    std::uint64_t minPinLength = 0;
    std::uint64_t maxPinLength = 0;
};

struct SlotList {
    std::uint64_t rv = kCkrOk;
    std::vector<SlotToken> tokens;
};

/// What a token shows without a login.
struct TokenObjects {
    struct Certificate {
        Bytes id;  // CKA_ID
        std::string label;
        Bytes der;
    };
    struct Key {
        Bytes id;
        std::uint64_t keyType = 0;
    };
    std::uint64_t rv = kCkrOk;
    std::vector<std::uint64_t> mechanisms;
    std::vector<Certificate> certificates;
    std::vector<Key> privateKeys;  // often none: most tokens show private keys after a login only
};

/// What a PIN operation leaves: the module's answer and the token's flags read right after.
struct PinAnswer {
    std::uint64_t rv = kCkrOk;
    std::uint64_t flags = 0;
};

struct SignAnswer : PinAnswer {
    Bytes signature;
};

class Module {
public:
    virtual ~Module() = default;

    /// The module's file, for messages.
    virtual const std::string& path() const = 0;
    virtual SlotList slots() = 0;
    virtual TokenObjects objects(std::uint64_t slot) = 0;
    /// C_Login as the user and C_Logout, in a session of their own.
    virtual PinAnswer login(std::uint64_t slot, const Secret& pin) = 0;
    /// C_Login, the private key whose CKA_ID is `keyId`, C_SignInit + C_Sign of `data` with `mechanism`, C_Logout.
    virtual SignAnswer sign(std::uint64_t slot, const Secret& pin, const Bytes& keyId, std::uint64_t mechanism,
                            const Bytes& data) = 0;
    /// C_SetPIN in a read-write session.
    virtual PinAnswer setPin(std::uint64_t slot, const Secret& oldPin, const Secret& newPin) = 0;
};

/// "CKR_PIN_INCORRECT", or the value in hex for one inkan has no name for.
std::string returnValueName(std::uint64_t rv);

}  // namespace inkan::pkcs11
