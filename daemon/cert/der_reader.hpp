// inkan — a small, bounds-checked DER reader (X.690 §8, §10) for the
// extensions OpenSSL has no template for (the commercial registry's).
//
// It reads one TLV at a time from a byte span and never reads outside it.
// Anything that is not plain DER (indefinite lengths, multi-byte tags,
// lengths over 2^32, lengths past the end) is rejected with DerError.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace inkan::cert::der {

/// Malformed DER. Caught by the decoders of this folder; never leaves them.
class DerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Identifier octet (X.690 §8.1.2): class in bits 8-7, constructed in bit 6, number in bits 5-1.
inline constexpr std::uint8_t kClassMask = 0xC0;
inline constexpr std::uint8_t kClassContextSpecific = 0x80;
inline constexpr std::uint8_t kConstructed = 0x20;
inline constexpr std::uint8_t kTagNumberMask = 0x1F;
inline constexpr std::uint8_t kHighTagNumber = 0x1F;  // §8.1.2.4: tag number in following octets

// Universal tags used here (X.680 §8.4).
inline constexpr std::uint8_t kTagSequence = 0x30;
inline constexpr std::uint8_t kTagUtf8String = 0x0C;
inline constexpr std::uint8_t kTagPrintableString = 0x13;
inline constexpr std::uint8_t kTagTeletexString = 0x14;
inline constexpr std::uint8_t kTagIa5String = 0x16;
inline constexpr std::uint8_t kTagUniversalString = 0x1C;
inline constexpr std::uint8_t kTagBmpString = 0x1E;

/// One element: its identifier octet and its contents.
struct Tlv {
    std::uint8_t tag = 0;
    std::span<const std::uint8_t> value;

    bool isContextSpecific() const { return (tag & kClassMask) == kClassContextSpecific; }
    bool isConstructed() const { return (tag & kConstructed) != 0; }
    std::uint8_t number() const { return tag & kTagNumberMask; }
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> input) : rest_(input) {}
    // The reader only borrows its input: refuse temporaries that would dangle.
    explicit Reader(std::vector<std::uint8_t>&&) = delete;

    bool atEnd() const { return rest_.empty(); }

    /// The next element. Throws DerError when it is not well-formed.
    Tlv next();

    /// The next element, which must carry `tag`.
    Tlv expect(std::uint8_t tag);

    /// Throws DerError unless every byte was consumed.
    void expectEnd() const;

private:
    std::span<const std::uint8_t> rest_;
};

/// The only element of `input`: `tag` and nothing after it.
std::span<const std::uint8_t> single(std::span<const std::uint8_t> input, std::uint8_t tag);

/// A DirectoryString (RFC 5280 §4.1.2.4: teletex, printable, universal, UTF-8,
/// BMP; IA5 also accepted) as UTF-8. Throws DerError on any other tag or on
/// content invalid for its type.
std::string directoryStringToUtf8(const Tlv& tlv);

}  // namespace inkan::cert::der
