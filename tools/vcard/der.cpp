// inkan-vcard — a small DER writer (ITU-T X.690).
#include "tools/vcard/der.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

namespace inkan::vcard::der {

namespace {

// X.690 §8.1.3.5: long-form lengths set bit 8 of the first octet and put the
// number of length octets in bits 7-1.
constexpr std::uint8_t kLongFormLength = 0x80;
constexpr std::size_t kShortFormMax = 0x7F;

void appendLength(Bytes& out, std::size_t length)
{
    if (length <= kShortFormMax) {
        out.push_back(static_cast<std::uint8_t>(length));
        return;
    }
    Bytes octets;  // big-endian, minimal (DER, X.690 §10.1)
    for (std::size_t v = length; v != 0; v >>= 8) octets.insert(octets.begin(), static_cast<std::uint8_t>(v & 0xFF));
    out.push_back(static_cast<std::uint8_t>(kLongFormLength | octets.size()));
    out.insert(out.end(), octets.begin(), octets.end());
}

// X.690 §8.19.2: each subidentifier in base 128, most significant group first,
// bit 8 set on every octet but the last.
void appendBase128(Bytes& out, std::uint64_t value)
{
    std::uint8_t groups[10];
    int n = 0;
    do {
        groups[n++] = static_cast<std::uint8_t>(value & 0x7F);
        value >>= 7;
    } while (value != 0);
    while (n > 1) out.push_back(static_cast<std::uint8_t>(groups[--n] | 0x80));
    out.push_back(groups[0]);
}

bool isPrintableStringChar(char c)
{
    // X.680 §41.4 Table 10: A-Z a-z 0-9 space ' ( ) + , - . / : = ?
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

}  // namespace

Bytes tlv(std::uint8_t tag, ByteView content)
{
    Bytes out;
    out.reserve(content.size() + 6);
    out.push_back(tag);
    appendLength(out, content.size());
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

Bytes sequence(std::initializer_list<Bytes> elements)
{
    Bytes content;
    for (const auto& e : elements) content.insert(content.end(), e.begin(), e.end());
    return tlv(kTagSequence, content);
}

Bytes objectIdentifier(std::string_view dotted)
{
    std::vector<std::uint64_t> arcs;
    std::size_t pos = 0;
    while (pos <= dotted.size()) {
        const std::size_t dot = std::min(dotted.find('.', pos), dotted.size());
        const std::string_view part = dotted.substr(pos, dot - pos);
        std::uint64_t arc = 0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), arc);
        if (part.empty() || ec != std::errc() || end != part.data() + part.size())
            throw std::invalid_argument("malformed OID: " + std::string(dotted));
        arcs.push_back(arc);
        pos = dot + 1;
    }
    // X.690 §8.19.4: the first two arcs share one subidentifier, 40 * X + Y,
    // with X in 0..2 and Y < 40 unless X = 2.
    if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
        throw std::invalid_argument("malformed OID: " + std::string(dotted));
    Bytes content;
    appendBase128(content, arcs[0] * 40 + arcs[1]);
    for (std::size_t i = 2; i < arcs.size(); ++i) appendBase128(content, arcs[i]);
    return tlv(kTagObjectIdentifier, content);
}

Bytes utf8String(std::string_view text)
{
    return tlv(kTagUtf8String, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Bytes printableString(std::string_view text)
{
    for (const char c : text)
        if (!isPrintableStringChar(c)) throw std::invalid_argument("not a PrintableString: " + std::string(text));
    return tlv(kTagPrintableString, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Bytes explicitTag(unsigned number, ByteView inner)
{
    if (number > 30) throw std::invalid_argument("high tag numbers are not supported");
    return tlv(static_cast<std::uint8_t>(kContextConstructed | number), inner);
}

}  // namespace inkan::vcard::der
