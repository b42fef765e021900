#include "daemon/pcsc/pinpad.hpp"

#include <stdexcept>
#include <string>

namespace inkan::pcsc::part10 {

namespace {

// §2.2: every feature TLV's value is a 4-byte control code.
constexpr std::size_t kTagLength = 1;
constexpr std::size_t kLengthLength = 1;
constexpr std::uint8_t kControlCodeLength = 4;
// §2.5.2: bTeoPrologue is three bytes, zero for the reader to fill.
constexpr std::size_t kTeoPrologueLength = 3;

void appendLittleEndian16(Bytes& out, std::uint16_t value)
{
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
    out.push_back(static_cast<std::uint8_t>(value >> 8));
}

void appendLittleEndian32(Bytes& out, std::uint32_t value)
{
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>((value >> shift) & 0xFF));
}

}  // namespace

Features parseFeatures(ByteView answer)
{
    Features features;
    std::size_t at = 0;
    while (at + kTagLength + kLengthLength <= answer.size()) {
        const std::uint8_t tag = answer[at];
        const std::uint8_t length = answer[at + kTagLength];
        const std::size_t value = at + kTagLength + kLengthLength;
        if (length != kControlCodeLength || value + length > answer.size()) break;
        const std::uint32_t code = (std::uint32_t{answer[value]} << 24) | (std::uint32_t{answer[value + 1]} << 16) |
                                   (std::uint32_t{answer[value + 2]} << 8) | std::uint32_t{answer[value + 3]};
        if (tag == kFeatureVerifyPinDirect) features.verifyPinDirect = code;
        if (tag == kFeatureModifyPinDirect) features.modifyPinDirect = code;
        at = value + length;
    }
    return features;
}

namespace {

void checkEntry(const PinEntryFormat& format, const Bytes& apdu, const char* structure)
{
    if (apdu.empty()) throw std::invalid_argument(std::string(structure) + " needs the APDU template");
    if (format.minPinLength > format.maxPinLength) {
        throw std::invalid_argument(std::string(structure) + ": the minimum PIN length exceeds the maximum");
    }
}

// The fields both structures begin with, up to wPINMaxExtraDigit, except that
// PIN_MODIFY_STRUCTURE has its two insertion offsets before it.
void appendTimersAndFormat(Bytes& out, const PinEntryFormat& format)
{
    out.push_back(format.timeoutSeconds);  // bTimerOut
    out.push_back(format.timeoutSeconds);  // bTimerOut2: after the first key
    out.push_back(format.formatString);
    out.push_back(format.blockString);
    out.push_back(format.lengthFormat);
}

// wPINMaxExtraDigit = XXYY: XX the minimum, YY the maximum PIN length.
void appendLengthRange(Bytes& out, const PinEntryFormat& format)
{
    appendLittleEndian16(out, static_cast<std::uint16_t>((format.minPinLength << 8) | format.maxPinLength));
}

void appendPrologueAndApdu(Bytes& out, const Bytes& apdu)
{
    out.insert(out.end(), kTeoPrologueLength, 0x00);
    appendLittleEndian32(out, static_cast<std::uint32_t>(apdu.size()));  // ulDataLength
    out.insert(out.end(), apdu.begin(), apdu.end());
}

}  // namespace

Bytes encodePinVerifyStructure(const PinVerifyParameters& parameters)
{
    checkEntry(parameters, parameters.apdu, "PIN_VERIFY_STRUCTURE");
    Bytes out;
    appendTimersAndFormat(out, parameters);
    appendLengthRange(out, parameters);
    out.push_back(parameters.entryValidation);
    out.push_back(parameters.messageCount);
    appendLittleEndian16(out, parameters.languageId);
    out.push_back(parameters.messageIndex);
    appendPrologueAndApdu(out, parameters.apdu);
    return out;
}

Bytes encodePinModifyStructure(const PinModifyParameters& parameters)
{
    checkEntry(parameters, parameters.apdu, "PIN_MODIFY_STRUCTURE");
    Bytes out;
    appendTimersAndFormat(out, parameters);
    out.push_back(parameters.currentOffset);
    out.push_back(parameters.newOffset);
    appendLengthRange(out, parameters);
    out.push_back(parameters.confirm);
    out.push_back(parameters.entryValidation);
    out.push_back(parameters.messageCount);
    appendLittleEndian16(out, parameters.languageId);
    out.push_back(parameters.messageIndex1);
    out.push_back(parameters.messageIndex2);
    out.push_back(parameters.messageIndex3);
    appendPrologueAndApdu(out, parameters.apdu);
    return out;
}

}  // namespace inkan::pcsc::part10
