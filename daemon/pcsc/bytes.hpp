// inkan — byte buffers as the PC/SC layer passes them around.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "daemon/hex.hpp"

namespace inkan {

// The same alias as daemon/card/types.hpp (redeclaring an alias to the same
// type is allowed), so the transport does not depend on the card layer.
using Bytes = std::vector<std::uint8_t>;

namespace pcsc {

using ByteView = std::span<const std::uint8_t>;

/// Overwrite a buffer that held a secret (a PIN block, an APDU carrying one)
/// before its memory is released. OPENSSL_cleanse cannot be optimised away.
inline void wipe(Bytes& bytes) noexcept
{
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
    bytes.clear();
}

/// Wipes the buffer it guards when the scope ends, also on exceptions.
class WipeOnExit {
public:
    explicit WipeOnExit(Bytes& bytes) noexcept : bytes_(bytes) {}
    ~WipeOnExit() { wipe(bytes_); }
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

private:
    Bytes& bytes_;
};

/// Hex encoding for logs and identifiers ("3B88..." or "3b88...").
inline std::string toHex(ByteView bytes, bool upperCase = true) { return hexEncode(bytes, upperCase); }

}  // namespace pcsc
}  // namespace inkan
