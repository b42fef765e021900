// inkan-vpinpad — the reader's side of PC/SC part 10 ("Interoperability
// Specification for ICCs and Personal Computer Systems, Part 10: IFDs with
// Secure PIN Entry Capabilities", v2.02.09): the feature list, the
// PIN_VERIFY / PIN_MODIFY structures, and putting a typed PIN into the
// APDU template the way a PIN-pad reader's firmware does.
//
// Pure functions only (no I/O), so every byte rule is unit-tested; the
// driver (ifd_handler.cpp) does the waiting and the talking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace inkan::vpinpad::part10 {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// ---- Control codes --------------------------------------------------------------
// SCARD_CTL_CODE(code) = 0x42000000 + code on pcsc-lite (reader.h).
inline constexpr std::uint32_t kScardCtlBase = 0x42000000;
// §2.2: the one control code every part 10 reader answers.
inline constexpr std::uint32_t kGetFeatureRequest = kScardCtlBase + 3400;
// The codes this reader hands out for its features: libccid's choice
// (SCARD_CTL_CODE(0x330000 + feature tag)), so logs look familiar.
inline constexpr std::uint32_t kFeatureCodeBase = kScardCtlBase + 0x330000;

// Feature tags (§2.3, Table 2-2).
inline constexpr std::uint8_t kFeatureVerifyPinDirect = 0x06;
inline constexpr std::uint8_t kFeatureModifyPinDirect = 0x07;
inline constexpr std::uint8_t kFeatureIfdPinProperties = 0x0A;

inline constexpr std::uint32_t kControlVerifyPinDirect = kFeatureCodeBase + kFeatureVerifyPinDirect;
inline constexpr std::uint32_t kControlModifyPinDirect = kFeatureCodeBase + kFeatureModifyPinDirect;
inline constexpr std::uint32_t kControlIfdPinProperties = kFeatureCodeBase + kFeatureIfdPinProperties;

// ---- Status words the reader itself answers (§2.5.2 / §2.5.3; the CCID
// PC_to_RDR_Secure convention libccid and reader firmware follow) ----------------
inline constexpr std::uint8_t kSw1PinEntry = 0x64;
inline constexpr std::uint8_t kSw2Timeout = 0x00;      // 64 00: no entry in time
inline constexpr std::uint8_t kSw2Cancelled = 0x01;    // 64 01: the user pressed Cancel
inline constexpr std::uint8_t kSw2Mismatch = 0x02;     // 64 02: new PIN and its confirmation differ
inline constexpr std::uint8_t kSw2InvalidLength = 0x03;  // 64 03: PIN too short/long (or not digits)

// ---- bmFormatString (§2.5.2, Table 2-10) ---------------------------------------
inline constexpr std::uint8_t kFormatUnitsBytes = 0x80;      // bit 7: positions in bytes (else bits)
inline constexpr std::uint8_t kFormatPositionMask = 0x78;    // bits 6-3: PIN position in units
inline constexpr unsigned kFormatPositionShift = 3;
inline constexpr std::uint8_t kFormatRightJustify = 0x04;    // bit 2: right justified (else left)
inline constexpr std::uint8_t kFormatEncodingMask = 0x03;    // bits 1-0: PIN encoding
inline constexpr std::uint8_t kEncodingBinary = 0x00;        // one byte per digit, value 0-9
inline constexpr std::uint8_t kEncodingBcd = 0x01;           // one nibble per digit
inline constexpr std::uint8_t kEncodingAscii = 0x02;         // one byte per character
// ---- bmPINBlockString -----------------------------------------------------------
inline constexpr unsigned kBlockLengthFieldShift = 4;        // bits 7-4: PIN length field size, bits
inline constexpr std::uint8_t kBlockSizeMask = 0x0F;         // bits 3-0: PIN block size, bytes
// ---- bmPINLengthFormat ----------------------------------------------------------
inline constexpr std::uint8_t kLengthRfuMask = 0xE0;         // bits 7-5: RFU
inline constexpr std::uint8_t kLengthUnitsBytes = 0x10;      // bit 4: position in bytes (else bits)
inline constexpr std::uint8_t kLengthPositionMask = 0x0F;    // bits 3-0: length field position
// ---- bConfirmPIN (§2.5.3) -------------------------------------------------------
inline constexpr std::uint8_t kConfirmNewPin = 0x01;         // bit 0: enter the new PIN twice
inline constexpr std::uint8_t kAskCurrentPin = 0x02;         // bit 1: enter the current PIN first
inline constexpr std::uint8_t kConfirmRfuMask = 0xFC;

// The command APDU in abData: CLA INS P1 P2 Lc, then the data field the
// positions above count from (PC/SC part 10 §2.5.2 "abData").
inline constexpr std::size_t kApduHeaderLength = 5;
inline constexpr std::size_t kApduLcOffset = 4;

// Fixed parts of the structures before abData: PIN_VERIFY_STRUCTURE
// (§2.5.2, Table 2-10) and PIN_MODIFY_STRUCTURE (§2.5.3, Table 2-11).
inline constexpr std::size_t kVerifyHeaderLength = 19;
inline constexpr std::size_t kModifyHeaderLength = 24;

/// bTimerOut = 0: "the reader's default" (§2.5.2). Ours: 30 s.
inline constexpr unsigned kDefaultTimeoutSeconds = 30;

/// A part 10 structure this reader cannot act on: wrong length, RFU bits
/// set, a PIN that could never fit its template. A real reader rejects these
/// before prompting, and so does this one.
class MalformedStructure : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// How a PIN is written into the data field (shared by verify and modify).
struct PinFormat {
    std::uint8_t formatString = 0;  // bmFormatString
    std::uint8_t blockString = 0;   // bmPINBlockString
    std::uint8_t lengthFormat = 0;  // bmPINLengthFormat
    std::uint8_t minLength = 0;     // wPINMaxExtraDigit XX
    std::uint8_t maxLength = 0;     // wPINMaxExtraDigit YY
};

/// PIN_VERIFY_STRUCTURE (§2.5.2), parsed.
struct VerifyRequest {
    unsigned timeoutSeconds = kDefaultTimeoutSeconds;  // bTimerOut, 0 replaced by the default
    PinFormat format;
    Bytes apduTemplate;  // abData
};

/// PIN_MODIFY_STRUCTURE (§2.5.3), parsed.
struct ModifyRequest {
    unsigned timeoutSeconds = kDefaultTimeoutSeconds;
    PinFormat format;
    std::uint8_t currentPinOffset = 0;  // bInsertionOffsetOld, bytes
    std::uint8_t newPinOffset = 0;      // bInsertionOffsetNew, bytes
    bool asksCurrentPin = false;        // bConfirmPIN bit 1
    bool asksConfirmation = false;      // bConfirmPIN bit 0
    Bytes apduTemplate;
};

/// The answer to CM_IOCTL_GET_FEATURE_REQUEST (§2.2): one TLV per feature,
/// tag, length 4, the control code big-endian.
Bytes featureList();

/// PIN_PROPERTIES_STRUCTURE (FEATURE_IFD_PIN_PROPERTIES): no display, entry ends on the OK key,
/// no inter-key timeout.
Bytes pinProperties();

/// Throws MalformedStructure.
VerifyRequest parseVerifyStructure(ByteView structure);
ModifyRequest parseModifyStructure(ByteView structure);

/// Writes `pin` into the data field of `apdu` as `format` says, the block
/// starting `blockOffset` bytes into the data field (0 for verify,
/// bInsertionOffsetOld/New for modify). Template bytes the PIN does not
/// cover are left as they are (the card's padding). Returns false, `apdu`
/// untouched, when the typed PIN is not acceptable: its length is outside
/// [minLength, maxLength] or it holds a non-digit for BCD / binary encoding
/// (the reader answers 64 03). `apdu` must come from a request parsed with
/// the same format and offset (so it fits); anything else throws
/// std::invalid_argument.
bool insertPin(std::span<std::uint8_t> apdu, const PinFormat& format, std::size_t blockOffset, std::string_view pin);

}  // namespace inkan::vpinpad::part10
