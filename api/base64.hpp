// inkan — base64 with the standard alphabet and padding (RFC 4648 §4), the
// encoding of every binary value in the API (digests, signatures, certificates).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::api {

std::string base64Encode(std::span<const std::uint8_t> bytes);

/// Strict decoding: standard alphabet only, padded to a multiple of four, no
/// whitespace, and the unused bits of the last group zero (RFC 4648 §3.5), so
/// every byte string has exactly one accepted encoding. nullopt otherwise.
std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text);

}  // namespace inkan::api
