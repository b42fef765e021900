// inkan-vcard — a small DER writer (ITU-T X.690) for the certificate extensions
// OpenSSL has no templates for (the 商業登記 registry extensions).
//
// Only what those extensions need: low tag numbers (< 31), definite lengths,
// OBJECT IDENTIFIER, UTF8String, PrintableString, SEQUENCE and EXPLICIT
// context tags. Every function returns the complete TLV.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "tools/vcard/bytes.hpp"

namespace inkan::vcard::der {

// Universal tags, X.690 §8 / X.680 §8.4 (class universal, primitive unless noted).
inline constexpr std::uint8_t kTagObjectIdentifier = 0x06;
inline constexpr std::uint8_t kTagUtf8String = 0x0C;
inline constexpr std::uint8_t kTagPrintableString = 0x13;
inline constexpr std::uint8_t kTagSequence = 0x30;  // 0x10 | constructed bit 0x20
// Context-specific class (bits 8-7 = 10) with the constructed bit (bit 6) set:
// the identifier octet of an EXPLICIT [n] tag is 0xA0 | n (X.690 §8.1.2, §8.14.3).
inline constexpr std::uint8_t kContextConstructed = 0xA0;

/// Tag + definite length (short form < 128, long form otherwise, X.690 §8.1.3) + content.
Bytes tlv(std::uint8_t tag, ByteView content);

/// SEQUENCE of already-encoded elements, in the order given.
Bytes sequence(std::initializer_list<Bytes> elements);

/// OBJECT IDENTIFIER from dotted text ("1.2.392.100300.1.1.1"), X.690 §8.19.
/// Throws std::invalid_argument on a malformed OID.
Bytes objectIdentifier(std::string_view dotted);

/// UTF8String; the text must already be UTF-8 (no validation beyond that contract).
Bytes utf8String(std::string_view text);

/// PrintableString (X.680 §41.4 character set). Throws std::invalid_argument otherwise.
Bytes printableString(std::string_view text);

/// EXPLICIT context tag [number] wrapping one encoded element.
Bytes explicitTag(unsigned number, ByteView inner);

}  // namespace inkan::vcard::der
