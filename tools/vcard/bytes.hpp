// inkan-vcard — byte buffers and their hex form (log lines, state files, tests).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::vcard {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Upper-case hex, no separators ("9000").
std::string toHex(ByteView bytes);

/// Parses hex digits (either case); spaces are ignored so tests can group bytes.
/// nullopt on an odd digit count or any other character.
std::optional<Bytes> fromHex(std::string_view text);

}  // namespace inkan::vcard
