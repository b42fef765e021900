// inkan — base64 with the standard alphabet and padding (RFC 4648 §4), the
// encoding of every binary value in the API (digests, signatures, certificates),
// for inkand and the inkan CLI alike. OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock
// do the work; this adds only the strictness they lack.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

namespace inkan {

inline std::string base64Encode(std::span<const std::uint8_t> bytes)
{
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes.data(), static_cast<int>(bytes.size()));
    text.resize(written < 0 ? 0 : static_cast<std::size_t>(written));
    return text;
}

/// Strict decoding: standard alphabet only, padded to a multiple of four, no
/// whitespace, and the unused bits of the last group zero (RFC 4648 §3.5), so
/// every byte string has exactly one accepted encoding. nullopt otherwise.
inline std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text)
{
    // EVP_DecodeBlock skips leading and trailing blanks and ignores the bits
    // padding discards; re-encoding the result and comparing refuses all that.
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
    std::vector<std::uint8_t> bytes(text.size() / 4 * 3);
    const int decoded = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (decoded < 0 || static_cast<std::size_t>(decoded) < padding) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes: take them off.
    bytes.resize(static_cast<std::size_t>(decoded) - padding);
    if (base64Encode(bytes) != text) return std::nullopt;
    return bytes;
}

}  // namespace inkan
