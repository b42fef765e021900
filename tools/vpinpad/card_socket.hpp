// inkan-vpinpad — the card slot: the reader's end of vsmartcard's vpcd
// protocol (tools/vpcd_protocol.hpp), so the same virtual cards
// (inkan-vcard --port N) plug in. The reader listens on 127.0.0.1:PORT.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "daemon/file_descriptor.hpp"
#include "tools/vpcd_protocol.hpp"

namespace inkan::vpinpad {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

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

    /// One message and its answer (an APDU, or vpcd::kControlGetAtr). The outgoing
    /// frame is wiped after sending: it may carry a PIN block. Throws CardLost.
    Bytes exchange(ByteView payload);

private:
    void sendFrame(ByteView payload);
    void receiveExactly(std::uint8_t* out, std::size_t n);

    FileDescriptor listener_;
    FileDescriptor card_;
};

}  // namespace inkan::vpinpad
