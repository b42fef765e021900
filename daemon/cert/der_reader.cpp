// inkan — bounds-checked DER reader (see der_reader.hpp).
#include "daemon/cert/der_reader.hpp"

#include <cstddef>
#include <string_view>

#include "daemon/cert/utf8.hpp"

namespace inkan::cert::der {
namespace {

// Length octets (X.690 §8.1.3): short form below 0x80; 0x80 alone is the
// indefinite form (forbidden in DER, §10.1); 0x81..0x84 give 1..4 length bytes.
constexpr std::uint8_t kLengthLongFormBit = 0x80;
constexpr std::uint8_t kLengthIndefinite = 0x80;
constexpr std::size_t kMaxLengthOctets = 4;

constexpr char32_t kSurrogateFirst = 0xD800;
constexpr char32_t kHighSurrogateLast = 0xDBFF;
constexpr char32_t kLowSurrogateFirst = 0xDC00;
constexpr char32_t kLowSurrogateLast = 0xDFFF;

void appendChecked(std::string& out, char32_t c) {
    // Control characters (NUL above all) let two different names print alike
    // or forge line breaks (RFC 5280 §7.1 on embedded nulls); the registry's
    // text is JIS X 0208 and never holds them. Refuse rather than repair.
    if (c > utf8::kMaxCodePoint || utf8::isSurrogate(c) || utf8::isControl(c)) {
        throw DerError("invalid character in string");
    }
    utf8::append(out, c);
}

/// UTF8String (X.680 §41.16, RFC 3629): validated by decoding and re-encoding,
/// which rejects overlong forms, surrogates and truncated sequences.
std::string fromUtf8(std::span<const std::uint8_t> in) {
    const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
    std::string out;
    out.reserve(in.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto c = utf8::next(text, pos);
        if (!c) {
            throw DerError("invalid UTF-8");
        }
        appendChecked(out, *c);
    }
    return out;
}

/// BMPString (X.680 §41.16): UCS-2 big-endian. Surrogate pairs, which some
/// encoders emit as if it were UTF-16, are combined; a lone surrogate is an error.
std::string fromBmp(std::span<const std::uint8_t> in) {
    if (in.size() % 2 != 0) {
        throw DerError("BMPString of odd length");
    }
    std::string out;
    out.reserve(in.size() * 3 / 2);
    for (std::size_t i = 0; i < in.size(); i += 2) {
        char32_t c = static_cast<char32_t>((in[i] << 8) | in[i + 1]);
        if (c >= kSurrogateFirst && c <= kHighSurrogateLast) {
            if (i + 3 >= in.size()) {
                throw DerError("unpaired surrogate in BMPString");
            }
            const char32_t low = static_cast<char32_t>((in[i + 2] << 8) | in[i + 3]);
            if (low < kLowSurrogateFirst || low > kLowSurrogateLast) {
                throw DerError("unpaired surrogate in BMPString");
            }
            c = 0x10000 + ((c - kSurrogateFirst) << 10) + (low - kLowSurrogateFirst);
            i += 2;
        }
        appendChecked(out, c);
    }
    return out;
}

/// UniversalString (X.680 §41.16): UCS-4 big-endian.
std::string fromUniversal(std::span<const std::uint8_t> in) {
    if (in.size() % 4 != 0) {
        throw DerError("UniversalString length not a multiple of 4");
    }
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const char32_t c = (static_cast<char32_t>(in[i]) << 24) | (static_cast<char32_t>(in[i + 1]) << 16) |
                           (static_cast<char32_t>(in[i + 2]) << 8) | static_cast<char32_t>(in[i + 3]);
        appendChecked(out, c);
    }
    return out;
}

/// PrintableString and IA5String: ASCII. The PrintableString alphabet
/// (X.680 §41.4) is not enforced: issuers put '@' or '&' in it and inkan
/// displays, it does not judge; anything beyond 7-bit ASCII is refused.
std::string fromAscii(std::span<const std::uint8_t> in) {
    std::string out;
    out.reserve(in.size());
    for (const std::uint8_t b : in) {
        if (b >= 0x80) {
            throw DerError("non-ASCII byte in an ASCII string type");
        }
        appendChecked(out, b);
    }
    return out;
}

/// TeletexString (T.61): read as ISO 8859-1, as OpenSSL and most software do;
/// real T.61 shift sequences do not occur in the registry's certificates.
std::string fromLatin1(std::span<const std::uint8_t> in) {
    std::string out;
    out.reserve(in.size() * 2);
    for (const std::uint8_t b : in) {
        appendChecked(out, b);
    }
    return out;
}

}  // namespace

Tlv Reader::next() {
    if (rest_.size() < 2) {
        throw DerError("truncated element");
    }
    const std::uint8_t tag = rest_[0];
    if ((tag & kTagNumberMask) == kHighTagNumber) {
        throw DerError("multi-byte tags are not used by these structures");
    }
    const std::uint8_t first = rest_[1];
    std::size_t pos = 2;
    std::size_t length = 0;
    if ((first & kLengthLongFormBit) == 0) {
        length = first;
    } else {
        if (first == kLengthIndefinite) {
            throw DerError("indefinite length is not DER");
        }
        const std::size_t octets = first & static_cast<std::uint8_t>(~kLengthLongFormBit);
        if (octets > kMaxLengthOctets) {
            throw DerError("length too large");
        }
        if (rest_.size() - pos < octets) {
            throw DerError("truncated length");
        }
        for (std::size_t k = 0; k < octets; ++k) {
            length = (length << 8) | rest_[pos + k];
        }
        pos += octets;
    }
    if (rest_.size() - pos < length) {
        throw DerError("element runs past its container");
    }
    Tlv tlv{tag, rest_.subspan(pos, length)};
    rest_ = rest_.subspan(pos + length);
    return tlv;
}

Tlv Reader::expect(std::uint8_t tag) {
    Tlv tlv = next();
    if (tlv.tag != tag) {
        throw DerError("unexpected tag");
    }
    return tlv;
}

void Reader::expectEnd() const {
    if (!atEnd()) {
        throw DerError("trailing bytes");
    }
}

std::span<const std::uint8_t> single(std::span<const std::uint8_t> input, std::uint8_t tag) {
    Reader reader(input);
    const Tlv tlv = reader.expect(tag);
    reader.expectEnd();
    return tlv.value;
}

std::string directoryStringToUtf8(const Tlv& tlv) {
    switch (tlv.tag) {
        case kTagUtf8String: return fromUtf8(tlv.value);
        case kTagPrintableString:
        case kTagIa5String: return fromAscii(tlv.value);
        case kTagBmpString: return fromBmp(tlv.value);
        case kTagUniversalString: return fromUniversal(tlv.value);
        case kTagTeletexString: return fromLatin1(tlv.value);
        default: throw DerError("not a DirectoryString");
    }
}

}  // namespace inkan::cert::der
