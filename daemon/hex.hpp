// inkan — hex: one digit's value, for the places that decode %XX escapes
// (Assuan data lines; URL path segments are Boost.URL's, api/router.cpp) and
// hex strings; and the one encoder of bytes as hex digits (identifiers,
// digests, APDUs in logs).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace inkan {

/// Two hex digits per byte, lower case unless `upperCase`.
inline std::string hexEncode(std::span<const std::uint8_t> bytes, bool upperCase = false)
{
    const std::string_view digits = upperCase ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t byte : bytes) {
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0x0F]);
    }
    return out;
}

/// 0-15 for 0-9, a-f, A-F; -1 for anything else.
constexpr int hexDigitValue(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace inkan
