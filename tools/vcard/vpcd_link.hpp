// inkan-vcard — the card's side of pcscd's vpcd driver (vsmartcard).
//
// The card is a TCP client of vpcd; connecting inserts the card, closing the
// socket removes it. vpcd speaks first. Every message, both ways, is a 2-byte
// big-endian length and the payload. A 1-byte payload is a control message:
// 00 power off, 01 power on, 02 reset (none answered), 04 "send your ATR"
// (answered with the ATR). Any other payload is a command APDU, answered with
// the response APDU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tools/vcard/bytes.hpp"
#include "tools/vcard/event_log.hpp"
#include "tools/vcard/virtual_card.hpp"

namespace inkan::vcard {

namespace vpcd {

inline constexpr std::uint16_t kDefaultPort = 35963;  // slot 0; slot 1 listens on 35964
inline constexpr std::uint8_t kControlPowerOff = 0x00;
inline constexpr std::uint8_t kControlPowerOn = 0x01;
inline constexpr std::uint8_t kControlReset = 0x02;
inline constexpr std::uint8_t kControlGetAtr = 0x04;
inline constexpr std::size_t kLengthPrefix = 2;
inline constexpr std::size_t kMaxPayload = 0xFFFF;

/// Length prefix + payload. Throws std::length_error above kMaxPayload.
Bytes frame(ByteView payload);

/// What the card answers to one vpcd payload (unframed); nullopt = no answer.
/// Logs the APDU or control event.
std::optional<Bytes> handleMessage(VirtualCard& card, EventLog& log, ByteView payload);

}  // namespace vpcd

/// A TCP connection to vpcd. Blocking I/O; the caller polls fd() for readability.
class VpcdLink {
public:
    VpcdLink(std::string host, std::uint16_t port);
    ~VpcdLink();
    VpcdLink(const VpcdLink&) = delete;
    VpcdLink& operator=(const VpcdLink&) = delete;

    /// Tries once to connect; false (with lastError()) when vpcd is not there.
    bool connect();
    /// Closes the socket (vpcd sees the card removed). Idempotent.
    void disconnect() noexcept;
    bool connected() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    const std::string& lastError() const noexcept { return lastError_; }
    std::string endpoint() const { return host_ + ":" + std::to_string(port_); }

    /// Reads one whole message (blocking until it is complete). nullopt when
    /// vpcd closed the connection or it failed; the link is then disconnected.
    std::optional<Bytes> receive();
    /// Sends one framed message; false (and disconnected) on failure.
    bool send(ByteView payload);

private:
    bool readExactly(std::uint8_t* out, std::size_t n);

    std::string host_;
    std::uint16_t port_;
    int fd_ = -1;
    std::string lastError_;
};

}  // namespace inkan::vcard
