// inkan — UTF-8 for text taken from certificates (daemon/cert/ internal).
//
// Every string daemon/cert/ hands out is valid UTF-8 without control
// characters: the API serializes it as JSON (which refuses invalid UTF-8) and
// users read it (where a newline or NUL in a name would forge what they see).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::cert::utf8 {

inline constexpr char32_t kMaxCodePoint = 0x10FFFF;
inline constexpr char32_t kReplacement = 0xFFFD;  // U+FFFD REPLACEMENT CHARACTER

/// U+D800..U+DFFF: UTF-16 halves, never characters on their own.
constexpr bool isSurrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

/// C0 controls and DEL (U+0000..U+001F, U+007F) and C1 controls (U+0080..U+009F).
constexpr bool isControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

/// Append `c` encoded (RFC 3629 §3). `c` must be a scalar value.
void append(std::string& out, char32_t c);

/// Decode the sequence at `pos`, advancing it; nullopt (pos unchanged) when
/// it is invalid: bad lead or continuation byte, truncated, overlong,
/// surrogate or above U+10FFFF.
std::optional<char32_t> next(std::string_view in, std::size_t& pos);

/// `in` with every invalid sequence and every control character replaced by U+FFFD.
std::string sanitize(std::string_view in);

}  // namespace inkan::cert::utf8
