// inkan — readers with a PIN pad, as PC/SC part 10 describes them
// ("Interoperability Specification for ICCs and Personal Computer Systems,
// Part 10: IFDs with Secure PIN Entry Capabilities", v2.02.09).
//
// A reader lists what it can do in answer to SCardControl with
// CM_IOCTL_GET_FEATURE_REQUEST (§2.2): TLV entries, one per feature, each the
// control code to use for it. With FEATURE_VERIFY_PIN_DIRECT (§2.5.2) the
// reader itself asks for the PIN on its keypad and builds the VERIFY APDU from
// a template, so the PIN never reaches the computer.
//
// Parsing and encoding only: CardConnection asks the reader, a card profile
// fills in the parameters for its PIN blocks.
#pragma once

#include <cstdint>
#include <optional>

#include "daemon/pcsc/bytes.hpp"

namespace inkan::pcsc::part10 {

/// Feature tags (§2.3, Table 2-2) inkand looks for.
inline constexpr std::uint8_t kFeatureVerifyPinDirect = 0x06;
inline constexpr std::uint8_t kFeatureModifyPinDirect = 0x07;

/// The control codes a reader announced, by feature.
struct Features {
    std::optional<std::uint32_t> verifyPinDirect;
    std::optional<std::uint32_t> modifyPinDirect;

    bool hasPinpad() const noexcept { return verifyPinDirect.has_value(); }
};

/// The answer to CM_IOCTL_GET_FEATURE_REQUEST: TLVs of tag (1 byte),
/// length (1 byte, always 4), control code (4 bytes, big-endian, §2.2).
/// Unknown tags are skipped; a truncated or malformed list yields what came
/// before the damage (a reader's bad answer must not make it a pinpad).
Features parseFeatures(ByteView answer);

/// How the reader collects a PIN and where it puts it into the APDU template
/// (the fields PIN_VERIFY_STRUCTURE and PIN_MODIFY_STRUCTURE share).
struct PinEntryFormat {
    std::uint8_t timeoutSeconds = 0;   // bTimerOut / bTimerOut2: 0 = the reader's default
    std::uint8_t formatString = 0;     // bmFormatString: units, PIN position, justification, encoding
    std::uint8_t blockString = 0;      // bmPINBlockString: length-field size (bits 7-4), block size (bits 3-0)
    std::uint8_t lengthFormat = 0;     // bmPINLengthFormat
    std::uint8_t minPinLength = 0;     // wPINMaxExtraDigit, high byte (XX)
    std::uint8_t maxPinLength = 0;     // wPINMaxExtraDigit, low byte (YY)
    std::uint8_t entryValidation = 0;  // bEntryValidationCondition: 02 = the user presses OK
    std::uint16_t languageId = 0;      // wLangId, e.g. 0x0411 Japanese
};

/// PIN_VERIFY_STRUCTURE (§2.5.2, Table 2-10): how the reader collects the
/// PIN and where it puts it into the VERIFY APDU template.
struct PinVerifyParameters : PinEntryFormat {
    std::uint8_t messageCount = 0;     // bNumberMessage
    std::uint8_t messageIndex = 0;     // bMsgIndex
    Bytes apdu;                        // abData: the VERIFY command, its PIN block a template
};

/// PIN_MODIFY_STRUCTURE (§2.5.3, Table 2-12): the reader collects the
/// current value (when asked for) and a new PIN, and puts them into the
/// command at their offsets: CHANGE REFERENCE DATA, or RESET RETRY COUNTER
/// with the unblock code as the "current" value.
struct PinModifyParameters : PinEntryFormat {
    std::uint8_t currentOffset = 0;    // bInsertionOffsetOld: bytes into the data field
    std::uint8_t newOffset = 0;        // bInsertionOffsetNew
    std::uint8_t confirm = 0;          // bConfirmPIN: kConfirmNewPin | kAskCurrentPin
    std::uint8_t messageCount = 0;     // bNumberMessage
    std::uint8_t messageIndex1 = 0;    // bMsgIndex1..3: the reader's prompts for each entry
    std::uint8_t messageIndex2 = 0;
    std::uint8_t messageIndex3 = 0;
    Bytes apdu;                        // abData: the command, both PIN blocks templates
};

// bmFormatString (§2.5.2): bit 7 = lengths in bytes, bits 6-3 = PIN
// position in the block, bit 2 = right justified, bits 1-0 = encoding.
inline constexpr std::uint8_t kFormatUnitsBytes = 0x80;
inline constexpr std::uint8_t kFormatEncodingBinary = 0x00;
inline constexpr std::uint8_t kFormatEncodingBcd = 0x01;
inline constexpr std::uint8_t kFormatEncodingAscii = 0x02;
// bEntryValidationCondition: the PIN is complete when the user presses OK.
inline constexpr std::uint8_t kValidateOnOkKey = 0x02;
// bConfirmPIN (§2.5.3): bit 0 = type the new PIN twice, bit 1 = ask for the current value first.
inline constexpr std::uint8_t kConfirmNewPin = 0x01;
inline constexpr std::uint8_t kAskCurrentPin = 0x02;

/// The bytes of PIN_VERIFY_STRUCTURE: 19 header bytes, multi-byte fields
/// little-endian (§2.5.2: "all multi-byte fields are in little endian"),
/// bTeoPrologue zero (T=1 prologue filled by the reader), then the APDU.
/// Throws std::invalid_argument when the APDU is empty or a PIN length
/// range is inverted.
Bytes encodePinVerifyStructure(const PinVerifyParameters& parameters);

/// The bytes of PIN_MODIFY_STRUCTURE: 24 header bytes, then the APDU; the
/// same rules and errors as encodePinVerifyStructure.
Bytes encodePinModifyStructure(const PinModifyParameters& parameters);

}  // namespace inkan::pcsc::part10
