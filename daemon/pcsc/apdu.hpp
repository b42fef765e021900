// inkan — command and response APDUs (ISO/IEC 7816-4 §5.1, short length fields only).
//
// The reference card and every card inkan supports so far need nothing longer
// than 255 data bytes in and 256 bytes out per APDU; longer answers arrive in
// pieces through GET RESPONSE (see apdu_channel.hpp). Extended length is
// deliberately not encoded: a profile that asks for it gets an Internal error
// instead of a silently truncated command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/pcsc/bytes.hpp"

namespace inkan::pcsc {

/// The four header bytes of a command (ISO/IEC 7816-4 §5.1).
struct ApduHeader {
    std::uint8_t cla = 0;
    std::uint8_t ins = 0;
    std::uint8_t p1 = 0;
    std::uint8_t p2 = 0;

    bool operator==(const ApduHeader&) const = default;
};

/// A command APDU. The four ISO cases follow from what is present:
///   case 1: header only             case 2: header + Le
///   case 3: header + Lc + data      case 4: header + Lc + data + Le
/// The data may hold a PIN block, so it is wiped when the command dies.
class CommandApdu {
public:
    /// Lc is one byte: 1..255 data bytes (ISO/IEC 7816-4 §5.1, short length).
    static constexpr std::size_t kMaxShortData = 255;
    /// Le is one byte: 1..256 expected bytes, 256 being encoded as 00.
    static constexpr std::size_t kMaxShortLe = 256;

    /// Throws inkan::Error(Internal) when data or Le do not fit a short APDU:
    /// that is a bug in the caller, never something a card or client causes.
    explicit CommandApdu(ApduHeader header, Bytes data = {}, std::optional<std::size_t> le = {});
    ~CommandApdu();

    CommandApdu(const CommandApdu& other);
    CommandApdu& operator=(const CommandApdu& other);
    CommandApdu(CommandApdu&& other) noexcept;
    CommandApdu& operator=(CommandApdu&& other) noexcept;

    const ApduHeader& header() const noexcept { return header_; }
    ByteView data() const noexcept { return data_; }
    std::optional<std::size_t> le() const noexcept { return le_; }

    /// The same command asking for exactly `le` bytes (the 6Cxx retry, ISO/IEC 7816-4 §5.6).
    CommandApdu withLe(std::size_t le) const;

    /// The bytes sent to the card. The result may hold a PIN block: callers wipe it.
    Bytes encode() const;

private:
    ApduHeader header_;
    Bytes data_;
    std::optional<std::size_t> le_;
};

/// A response APDU: data followed by the two status bytes SW1 SW2.
class ResponseApdu {
public:
    /// Status word 9000: normal processing (ISO/IEC 7816-4 §5.6).
    static constexpr std::uint16_t kSuccess = 0x9000;

    ResponseApdu(Bytes data, std::uint16_t sw) : data_(std::move(data)), sw_(sw) {}

    /// Split what the card sent into data and status word. Throws
    /// inkan::Error(CardError) when fewer than two bytes arrived: every R-APDU
    /// ends with SW1 SW2, so a shorter one means the card or reader misbehaved.
    static ResponseApdu fromBytes(ByteView bytes);

    const Bytes& data() const noexcept { return data_; }
    Bytes takeData() noexcept { return std::move(data_); }
    std::uint16_t sw() const noexcept { return sw_; }
    std::uint8_t sw1() const noexcept { return static_cast<std::uint8_t>(sw_ >> 8); }
    std::uint8_t sw2() const noexcept { return static_cast<std::uint8_t>(sw_ & 0xFF); }
    bool isSuccess() const noexcept { return sw_ == kSuccess; }

    Bytes toBytes() const;

private:
    Bytes data_;
    std::uint16_t sw_;
};

}  // namespace inkan::pcsc
