#include "api/base64.hpp"

#include <array>

namespace inkan::api {

namespace {

// RFC 4648 §4, Table 1.
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kPad = '=';
constexpr int kInvalid = -1;

constexpr std::array<int, 256> makeDecodeTable()
{
    std::array<int, 256> table{};
    table.fill(kInvalid);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    return table;
}
constexpr std::array<int, 256> kDecode = makeDecodeTable();

}  // namespace

std::string base64Encode(std::span<const std::uint8_t> bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out += kAlphabet[(group >> 18) & 0x3F];
        out += kAlphabet[(group >> 12) & 0x3F];
        out += kAlphabet[(group >> 6) & 0x3F];
        out += kAlphabet[group & 0x3F];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t group = std::uint32_t{bytes[i]} << 16;
        out += kAlphabet[(group >> 18) & 0x3F];
        out += kAlphabet[(group >> 12) & 0x3F];
        out += kPad;
        out += kPad;
    } else if (rest == 2) {
        const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
        out += kAlphabet[(group >> 18) & 0x3F];
        out += kAlphabet[(group >> 12) & 0x3F];
        out += kAlphabet[(group >> 6) & 0x3F];
        out += kPad;
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text)
{
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (!text.empty() && text.back() == kPad) ++padding;
    if (text.size() >= 2 && text[text.size() - 2] == kPad) ++padding;

    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool lastGroup = i + 4 == text.size();
        std::uint32_t group = 0;
        int sextets = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == kPad) {
                // Padding only at the very end of the last group.
                if (!lastGroup || j < 4 - padding) return std::nullopt;
                group <<= 6;
                continue;
            }
            const int value = kDecode[static_cast<unsigned char>(c)];
            if (value == kInvalid) return std::nullopt;
            group = (group << 6) | static_cast<std::uint32_t>(value);
            ++sextets;
        }
        out.push_back(static_cast<std::uint8_t>(group >> 16));
        if (sextets >= 3) out.push_back(static_cast<std::uint8_t>(group >> 8));
        if (sextets == 4) out.push_back(static_cast<std::uint8_t>(group));
        // Non-canonical encodings carry data in the bits padding discards.
        if (sextets == 2 && (group & 0xFFFF) != 0) return std::nullopt;
        if (sextets == 3 && (group & 0xFF) != 0) return std::nullopt;
    }
    return out;
}

}  // namespace inkan::api
