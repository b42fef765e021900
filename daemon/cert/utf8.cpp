// inkan — UTF-8 helpers for certificate text (see utf8.hpp).
#include "daemon/cert/utf8.hpp"

namespace inkan::cert::utf8 {

void append(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::optional<char32_t> next(std::string_view in, std::size_t& pos) {
    if (pos >= in.size()) {
        return std::nullopt;
    }
    const auto lead = static_cast<unsigned char>(in[pos]);
    std::size_t extra = 0;
    char32_t c = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        c = lead;
    } else if ((lead & 0xE0) == 0xC0) {
        extra = 1, c = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        extra = 2, c = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        extra = 3, c = lead & 0x07, minimum = 0x10000;
    } else {
        return std::nullopt;
    }
    if (in.size() - pos - 1 < extra) {
        return std::nullopt;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
        const auto cont = static_cast<unsigned char>(in[pos + k]);
        if ((cont & 0xC0) != 0x80) {
            return std::nullopt;
        }
        c = (c << 6) | (cont & 0x3F);
    }
    if (c < minimum || c > kMaxCodePoint || isSurrogate(c)) {
        return std::nullopt;
    }
    pos += 1 + extra;
    return c;
}

std::string sanitize(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    std::size_t pos = 0;
    while (pos < in.size()) {
        const auto c = next(in, pos);
        if (!c) {
            ++pos;  // skip one byte and resynchronize
            append(out, kReplacement);
        } else {
            append(out, isControl(*c) ? kReplacement : *c);
        }
    }
    return out;
}

}  // namespace inkan::cert::utf8
