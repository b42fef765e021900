#include "tools/vpinpad/part10.hpp"

#include <string>

namespace inkan::vpinpad::part10 {

namespace {

constexpr std::size_t kBitsPerByte = 8;
constexpr std::size_t kBitsPerBcdDigit = 4;

// §2.2: each feature TLV carries a 4-byte control code.
constexpr std::uint8_t kControlCodeLength = 4;

// PIN_VERIFY_STRUCTURE (§2.5.2, Table 2-10): byte offsets. Multi-byte
// fields are little-endian ("all multi-byte fields are in little endian").
namespace verify {
constexpr std::size_t kTimerOut = 0;
constexpr std::size_t kFormatString = 2;
constexpr std::size_t kPinBlockString = 3;
constexpr std::size_t kPinLengthFormat = 4;
constexpr std::size_t kPinMaxExtraDigit = 5;  // 2 bytes: YY (max) then XX (min)
constexpr std::size_t kDataLength = 15;        // ulDataLength, 4 bytes
constexpr std::size_t kHeaderLength = kVerifyHeaderLength;  // abData follows
}  // namespace verify

// PIN_MODIFY_STRUCTURE (§2.5.3, Table 2-11).
namespace modify {
constexpr std::size_t kTimerOut = 0;
constexpr std::size_t kFormatString = 2;
constexpr std::size_t kPinBlockString = 3;
constexpr std::size_t kPinLengthFormat = 4;
constexpr std::size_t kInsertionOffsetOld = 5;
constexpr std::size_t kInsertionOffsetNew = 6;
constexpr std::size_t kPinMaxExtraDigit = 7;
constexpr std::size_t kConfirmPin = 9;
constexpr std::size_t kDataLength = 20;
constexpr std::size_t kHeaderLength = kModifyHeaderLength;
}  // namespace modify

// PIN_PROPERTIES_STRUCTURE (FEATURE_IFD_PIN_PROPERTIES): wLcdLayout 0000 =
// no display; bEntryValidationCondition 02 = the OK key ends the entry;
// bTimeOut2 00 = no separate inter-key timeout.
constexpr std::uint8_t kLcdLayoutNoDisplay = 0x00;
constexpr std::uint8_t kValidationOkKey = 0x02;
constexpr std::uint8_t kTimeOut2None = 0x00;

std::uint16_t readLe16(ByteView bytes, std::size_t at)
{
    return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}

std::uint32_t readLe32(ByteView bytes, std::size_t at)
{
    return std::uint32_t{bytes[at]} | (std::uint32_t{bytes[at + 1]} << 8) | (std::uint32_t{bytes[at + 2]} << 16) |
           (std::uint32_t{bytes[at + 3]} << 24);
}

void appendFeature(Bytes& out, std::uint8_t tag, std::uint32_t code)
{
    out.push_back(tag);
    out.push_back(kControlCodeLength);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>((code >> shift) & 0xFF));
}

std::uint8_t encodingOf(const PinFormat& format)
{
    return format.formatString & kFormatEncodingMask;
}

std::size_t bitsPerCharacter(const PinFormat& format)
{
    return encodingOf(format) == kEncodingBcd ? kBitsPerBcdDigit : kBitsPerByte;
}

/// Where one PIN block goes in the data field, in bits from the data
/// field's first (most significant) bit.
struct Layout {
    std::size_t pinPosition = 0;      // first bit of the PIN area
    bool rightJustified = false;
    std::size_t blockBits = 0;        // PIN block size (0 = not given)
    std::size_t lengthFieldBits = 0;  // 0 = no length field
    std::size_t lengthPosition = 0;
};

Layout layoutOf(const PinFormat& format, std::size_t blockOffset)
{
    Layout layout;
    const std::size_t pinUnit = (format.formatString & kFormatUnitsBytes) ? kBitsPerByte : 1;
    const std::size_t lengthUnit = (format.lengthFormat & kLengthUnitsBytes) ? kBitsPerByte : 1;
    const std::size_t base = blockOffset * kBitsPerByte;
    layout.pinPosition = base + ((format.formatString & kFormatPositionMask) >> kFormatPositionShift) * pinUnit;
    layout.rightJustified = (format.formatString & kFormatRightJustify) != 0;
    layout.blockBits = (format.blockString & kBlockSizeMask) * kBitsPerByte;
    layout.lengthFieldBits = format.blockString >> kBlockLengthFieldShift;
    layout.lengthPosition = base + (format.lengthFormat & kLengthPositionMask) * lengthUnit;
    return layout;
}

/// Writes the `count` low bits of `value`, most significant first, at bit
/// `position` of `data` (bit 0 = the most significant bit of data[0], the
/// order the bytes go to the card). Bits outside the range keep their value.
void writeBits(std::span<std::uint8_t> data, std::size_t position, std::size_t count, std::uint32_t value)
{
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t bit = position + i;
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % kBitsPerByte));
        const bool set = ((value >> (count - 1 - i)) & 1u) != 0;
        std::uint8_t& target = data[bit / kBitsPerByte];
        target = static_cast<std::uint8_t>(set ? (target | mask) : (target & ~mask));
    }
}

/// The data field of a command APDU template: CLA INS P1 P2 Lc data [Le].
/// Short APDUs only; the PIN needs a data field to go into.
std::size_t dataFieldLength(ByteView apdu)
{
    if (apdu.size() < kApduHeaderLength) throw MalformedStructure("abData is shorter than an APDU header with Lc");
    const std::size_t lc = apdu[kApduLcOffset];
    if (lc == 0) throw MalformedStructure("abData has no data field (Lc = 00) to put the PIN in");
    const std::size_t withoutLe = kApduHeaderLength + lc;
    if (apdu.size() != withoutLe && apdu.size() != withoutLe + 1) {
        throw MalformedStructure("abData length does not match its Lc");
    }
    return lc;
}

/// Rejects a format that a PIN of the announced maximum length could not be
/// written with, before anyone is asked to type anything.
void checkFormatFits(const PinFormat& format, std::size_t dataLength, std::size_t blockOffset, const char* which)
{
    const std::string prefix = std::string(which) + ": ";
    if (encodingOf(format) != kEncodingBinary && encodingOf(format) != kEncodingBcd &&
        encodingOf(format) != kEncodingAscii) {
        throw MalformedStructure(prefix + "bmFormatString names an RFU PIN encoding (11)");
    }
    if ((format.lengthFormat & kLengthRfuMask) != 0) throw MalformedStructure(prefix + "bmPINLengthFormat RFU bits set");
    if (format.maxLength == 0 || format.minLength > format.maxLength) {
        throw MalformedStructure(prefix + "wPINMaxExtraDigit: empty or inverted PIN length range");
    }
    const Layout layout = layoutOf(format, blockOffset);
    const std::size_t dataBits = dataLength * kBitsPerByte;
    const std::size_t longestPinBits = format.maxLength * bitsPerCharacter(format);
    if (layout.rightJustified) {
        if (layout.blockBits == 0) throw MalformedStructure(prefix + "right justification without a PIN block size");
        if (longestPinBits > layout.blockBits || layout.pinPosition + layout.blockBits > dataBits) {
            throw MalformedStructure(prefix + "the PIN block does not fit the data field");
        }
    } else if (layout.pinPosition + longestPinBits > dataBits) {
        throw MalformedStructure(prefix + "a PIN of the maximum length does not fit the data field");
    }
    if (layout.lengthFieldBits != 0) {
        if (layout.lengthPosition + layout.lengthFieldBits > dataBits) {
            throw MalformedStructure(prefix + "the PIN length field does not fit the data field");
        }
        if (format.maxLength >= (std::size_t{1} << layout.lengthFieldBits)) {
            throw MalformedStructure(prefix + "the PIN length field is too small for the maximum length");
        }
    }
}

PinFormat formatAt(ByteView s, std::size_t formatString, std::size_t blockString, std::size_t lengthFormat,
                   std::size_t maxExtraDigit)
{
    PinFormat format;
    format.formatString = s[formatString];
    format.blockString = s[blockString];
    format.lengthFormat = s[lengthFormat];
    const std::uint16_t extra = readLe16(s, maxExtraDigit);  // 0xXXYY
    format.minLength = static_cast<std::uint8_t>(extra >> 8);
    format.maxLength = static_cast<std::uint8_t>(extra & 0xFF);
    return format;
}

/// abData after a fixed header whose ulDataLength must account for every
/// remaining byte exactly (no trailing garbage, no truncation).
Bytes apduAfterHeader(ByteView s, std::size_t headerLength, std::size_t dataLengthAt, const char* which)
{
    if (s.size() < headerLength) throw MalformedStructure(std::string(which) + " is shorter than its header");
    const std::uint32_t declared = readLe32(s, dataLengthAt);
    if (declared != s.size() - headerLength) {
        throw MalformedStructure(std::string(which) + ": ulDataLength does not match the bytes that follow");
    }
    return Bytes(s.begin() + static_cast<std::ptrdiff_t>(headerLength), s.end());
}

unsigned timeoutFrom(std::uint8_t timerOut)
{
    return timerOut == 0 ? kDefaultTimeoutSeconds : timerOut;
}

}  // namespace

Bytes featureList()
{
    Bytes out;
    appendFeature(out, kFeatureVerifyPinDirect, kControlVerifyPinDirect);
    appendFeature(out, kFeatureModifyPinDirect, kControlModifyPinDirect);
    appendFeature(out, kFeatureIfdPinProperties, kControlIfdPinProperties);
    return out;
}

Bytes pinProperties()
{
    // wLcdLayout is little-endian like every part 10 multi-byte field.
    return Bytes{kLcdLayoutNoDisplay, kLcdLayoutNoDisplay, kValidationOkKey, kTimeOut2None};
}

VerifyRequest parseVerifyStructure(ByteView s)
{
    constexpr const char* kWhich = "PIN_VERIFY_STRUCTURE";
    VerifyRequest request;
    request.apduTemplate = apduAfterHeader(s, verify::kHeaderLength, verify::kDataLength, kWhich);
    request.timeoutSeconds = timeoutFrom(s[verify::kTimerOut]);
    request.format = formatAt(s, verify::kFormatString, verify::kPinBlockString, verify::kPinLengthFormat,
                              verify::kPinMaxExtraDigit);
    checkFormatFits(request.format, dataFieldLength(request.apduTemplate), 0, kWhich);
    return request;
}

ModifyRequest parseModifyStructure(ByteView s)
{
    constexpr const char* kWhich = "PIN_MODIFY_STRUCTURE";
    ModifyRequest request;
    request.apduTemplate = apduAfterHeader(s, modify::kHeaderLength, modify::kDataLength, kWhich);
    request.timeoutSeconds = timeoutFrom(s[modify::kTimerOut]);
    request.format = formatAt(s, modify::kFormatString, modify::kPinBlockString, modify::kPinLengthFormat,
                              modify::kPinMaxExtraDigit);
    const std::uint8_t confirm = s[modify::kConfirmPin];
    if ((confirm & kConfirmRfuMask) != 0) throw MalformedStructure("PIN_MODIFY_STRUCTURE: bConfirmPIN RFU bits set");
    request.asksCurrentPin = (confirm & kAskCurrentPin) != 0;
    request.asksConfirmation = (confirm & kConfirmNewPin) != 0;
    request.currentPinOffset = s[modify::kInsertionOffsetOld];
    request.newPinOffset = s[modify::kInsertionOffsetNew];
    const std::size_t dataLength = dataFieldLength(request.apduTemplate);
    if (request.asksCurrentPin) checkFormatFits(request.format, dataLength, request.currentPinOffset, kWhich);
    checkFormatFits(request.format, dataLength, request.newPinOffset, kWhich);
    return request;
}

bool insertPin(std::span<std::uint8_t> apdu, const PinFormat& format, std::size_t blockOffset, std::string_view pin)
{
    if (pin.size() < format.minLength || pin.size() > format.maxLength) return false;
    const std::uint8_t encoding = encodingOf(format);
    if (encoding != kEncodingAscii) {
        for (const char c : pin) {
            if (c < '0' || c > '9') return false;
        }
    }
    if (apdu.size() < kApduHeaderLength || apdu.size() < kApduHeaderLength + apdu[kApduLcOffset]) {
        throw std::invalid_argument("insertPin: not an APDU template from a parsed request");
    }
    const std::span<std::uint8_t> data = apdu.subspan(kApduHeaderLength, apdu[kApduLcOffset]);
    const Layout layout = layoutOf(format, blockOffset);
    const std::size_t characterBits = bitsPerCharacter(format);
    const std::size_t pinBits = pin.size() * characterBits;
    std::size_t at = layout.rightJustified ? layout.pinPosition + layout.blockBits - pinBits : layout.pinPosition;
    // parse*Structure already refused layouts that overflow; this keeps a
    // mismatched caller from writing outside the buffer.
    const std::size_t dataBits = data.size() * kBitsPerByte;
    if ((layout.rightJustified && pinBits > layout.blockBits) || at + pinBits > dataBits ||
        (layout.lengthFieldBits != 0 && layout.lengthPosition + layout.lengthFieldBits > dataBits)) {
        throw std::invalid_argument("insertPin: the format does not fit this APDU template");
    }
    for (const char c : pin) {
        const auto character = static_cast<std::uint8_t>(c);
        const std::uint32_t value = encoding == kEncodingAscii ? character : static_cast<std::uint32_t>(c - '0');
        writeBits(data, at, characterBits, value);
        at += characterBits;
    }
    if (layout.lengthFieldBits != 0) {
        writeBits(data, layout.lengthPosition, layout.lengthFieldBits, static_cast<std::uint32_t>(pin.size()));
    }
    return true;
}

}  // namespace inkan::vpinpad::part10
