// inkan-vcard — what every emulated card shares at the APDU level (ISO/IEC
// 7816-4): short command APDUs split into fields, status words, and a response
// longer than Le handed out by GET RESPONSE. Both card classes (the reference
// card, virtual_card.hpp; the JPKI card, jpki_card.hpp) build on this; neither
// knows the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tools/vcard/bytes.hpp"

namespace inkan::vcard::apdu {

// ---- Status words (ISO 7816-4 §5.6) ----------------------------------------------
inline constexpr std::uint16_t kSwOk = 0x9000;
inline constexpr std::uint16_t kSwBytesRemaining = 0x6100;  // | xx bytes still available
inline constexpr std::uint16_t kSwEndOfFile = 0x6282;       // fewer bytes than Le: end of file reached
inline constexpr std::uint16_t kSwVerifyFailed = 0x63C0;    // | x tries left
inline constexpr std::uint16_t kSwMemoryFailure = 0x6581;   // a counter could not be persisted
inline constexpr std::uint16_t kSwWrongLength = 0x6700;
inline constexpr std::uint16_t kSwIncompatibleFile = 0x6981;  // command incompatible with file structure
inline constexpr std::uint16_t kSwSecurityNotSatisfied = 0x6982;
inline constexpr std::uint16_t kSwAuthBlocked = 0x6983;
inline constexpr std::uint16_t kSwConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kSwNoCurrentEf = 0x6986;
inline constexpr std::uint16_t kSwWrongData = 0x6A80;
inline constexpr std::uint16_t kSwFileNotFound = 0x6A82;
inline constexpr std::uint16_t kSwWrongP1P2 = 0x6A86;
inline constexpr std::uint16_t kSwWrongOffset = 0x6B00;
inline constexpr std::uint16_t kSwWrongLe = 0x6C00;  // | exact length available
inline constexpr std::uint16_t kSwInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kSwClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kSwNoPreciseDiagnosis = 0x6F00;

// Short APDU sizes (ISO 7816-4 §5.1): Le = 00 means 256.
inline constexpr std::size_t kHeaderLength = 4;
inline constexpr std::size_t kShortLeMax = 256;

// GET RESPONSE (ISO 7816-4 §7.6.1): INS C0, P1 P2 = 00 00.
inline constexpr std::uint8_t kInsGetResponse = 0xC0;

/// The status word alone.
Bytes status(std::uint16_t sw);
/// Response data followed by the status word.
Bytes dataAndStatus(ByteView data, std::uint16_t sw);
/// 61xx / 6Cxx carry a byte count in SW2; 256 or more is written 00.
std::uint16_t withCount(std::uint16_t sw, std::size_t count);
/// 63Cx: x = tries left (0..15 fits the nibble).
std::uint16_t verifyFailed(int triesLeft);

/// True when `data` is exactly a DigestInfo (RFC 8017 §9.2, note 1) of SHA-256,
/// SHA-384 or SHA-512: the input both emulated cards sign after adding PKCS#1 padding.
bool isSha2DigestInfo(ByteView data);

/// A short command APDU split into its fields (ISO 7816-4 §5.1, cases 1-4).
struct Command {
    std::uint8_t cla = 0;
    std::uint8_t ins = 0;
    std::uint8_t p1 = 0;
    std::uint8_t p2 = 0;
    ByteView data;
    std::optional<std::size_t> le;  // 1..256

    bool hasData() const noexcept { return !data.empty(); }

    /// Short APDUs only; nullopt for anything else, including extended lengths
    /// (P3 = 00 followed by more bytes). `apdu` must outlive the result.
    static std::optional<Command> parse(ByteView apdu);
};

/// A response too long for one R-APDU, handed out by GET RESPONSE (ISO 7816-4
/// §7.6.1). Only the very next command may fetch it: the card calls
/// forgetUnlessGetResponse() before any other command.
class PendingResponse {
public:
    /// Stores `data` to be fetched and answers 61xx (xx = its length, 00 for 256+).
    Bytes offer(Bytes data);
    /// The first min(Le, data size) bytes at once, 61xx for the rest (if any).
    Bytes answerWithin(Bytes data, std::size_t le);
    /// GET RESPONSE: the next chunk and 61xx while more is left, 9000 after the last.
    /// Nothing pending answers 6985 (ISO 7816-4 §7.6.1 leaves the code open).
    Bytes getResponse(const Command& c);
    /// Drops the pending response unless `apdu` is a GET RESPONSE.
    void forgetUnlessGetResponse(ByteView apdu) noexcept;
    void clear() noexcept;

private:
    Bytes data_;
    std::size_t offset_ = 0;
};

}  // namespace inkan::vcard::apdu
