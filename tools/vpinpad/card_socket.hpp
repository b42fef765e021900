// inkan-vpinpad — the card slot: the reader's end of vsmartcard's vpcd
// protocol, so the same virtual cards (inkan-vcard --port N) plug in.
//
// The reader listens on 127.0.0.1:PORT; a card connecting is a card
// inserted, its connection closing is the card removed. Every message,
// both ways, is a 2-byte big-endian length and the payload. The reader
// speaks first: 1-byte payloads are control messages (00 power off,
// 01 power on, 02 reset — none answered; 04 "your ATR" — answered with the
// ATR); any longer payload is a command APDU, answered with the response.
// (See tools/vcard/vpcd_link.hpp for the card's end.)
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "daemon/file_descriptor.hpp"

namespace inkan::vpinpad {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

namespace vpcd {
inline constexpr std::uint8_t kPowerOff = 0x00;
inline constexpr std::uint8_t kPowerOn = 0x01;
inline constexpr std::uint8_t kReset = 0x02;
inline constexpr std::uint8_t kGetAtr = 0x04;
inline constexpr std::size_t kLengthPrefix = 2;
inline constexpr std::size_t kMaxPayload = 0xFFFF;
}  // namespace vpcd

/// The card went away mid-conversation (closed, reset, silent too long).
/// The slot is empty afterwards.
class CardLost : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CardSocket {
public:
    /// How long a card may take to answer one message (an RSA signature on
    /// the virtual card takes milliseconds; this only stops a hung card
    /// from hanging pcscd).
    static constexpr std::chrono::milliseconds kAnswerTimeout{15000};

    /// Listens on 127.0.0.1:port. Throws std::system_error (port taken...).
    explicit CardSocket(std::uint16_t port);

    /// True when a card is in: accepts a waiting card without blocking and
    /// notices one that has gone (peer closed).
    bool cardPresent();

    /// Empties the slot (drops the card's connection).
    void eject() noexcept;

    /// A control message the card does not answer (power on/off, reset).
    /// Throws CardLost.
    void sendControl(std::uint8_t control);

    /// One message and its answer (an APDU, or vpcd::kGetAtr). The outgoing
    /// frame is wiped after sending: it may carry a PIN block. Throws CardLost.
    Bytes exchange(ByteView payload);

private:
    void sendFrame(ByteView payload);
    void receiveExactly(std::uint8_t* out, std::size_t n);

    FileDescriptor listener_;
    FileDescriptor card_;
};

}  // namespace inkan::vpinpad
