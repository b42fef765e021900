// inkan-vcard — byte buffers and their hex form.
#include "tools/vcard/bytes.hpp"

#include "daemon/hex.hpp"

namespace inkan::vcard {

std::string toHex(ByteView bytes)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const auto b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0F]);
    }
    return out;
}

std::optional<Bytes> fromHex(std::string_view text)
{
    Bytes out;
    out.reserve(text.size() / 2);
    int high = -1;
    for (const char c : text) {
        if (c == ' ') continue;
        const int v = hexDigitValue(c);
        if (v < 0) return std::nullopt;
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>((high << 4) | v));
            high = -1;
        }
    }
    if (high >= 0) return std::nullopt;
    return out;
}

}  // namespace inkan::vcard
