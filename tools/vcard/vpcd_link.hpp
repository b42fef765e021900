// inkan-vcard — the card's side of pcscd's vpcd driver (vsmartcard): a TCP
// client of vpcd, speaking the protocol of tools/vpcd_protocol.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tools/vcard/bytes.hpp"
#include "tools/vcard/event_log.hpp"
#include "tools/vcard/emulated_card.hpp"
#include "tools/vpcd_protocol.hpp"

namespace inkan::vcard {

namespace vpcd {

using namespace ::inkan::vpcd;  // the protocol's constants

/// Length prefix + payload. Throws std::length_error above kMaxPayload.
Bytes frame(ByteView payload);

/// What the card answers to one vpcd payload (unframed); nullopt = no answer.
/// Logs the APDU or control event.
std::optional<Bytes> handleMessage(EmulatedCard& card, EventLog& log, ByteView payload);

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
