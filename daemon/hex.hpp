// inkan — one hex digit's value, for the places that decode %XX escapes
// (URL path segments, Assuan data lines) and hex strings.
#pragma once

namespace inkan {

/// 0-15 for 0-9, a-f, A-F; -1 for anything else.
constexpr int hexDigitValue(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace inkan
