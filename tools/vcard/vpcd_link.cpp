// inkan-vcard — the card's side of pcscd's vpcd driver.
#include "tools/vcard/vpcd_link.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace inkan::vcard {

namespace vpcd {

Bytes frame(ByteView payload)
{
    if (payload.size() > kMaxPayload) throw std::length_error("vpcd message too long");
    Bytes out;
    out.reserve(kLengthPrefix + payload.size());
    out.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(payload.size() & 0xFF));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::optional<Bytes> handleMessage(EmulatedCard& card, EventLog& log, ByteView payload)
{
    if (payload.size() == 1) {
        switch (payload[0]) {
        case kControlPowerOff:
            card.powerOff();
            log.event(CardEvent::PowerOff);
            return std::nullopt;
        case kControlPowerOn:
            card.powerOn();
            log.event(CardEvent::PowerOn);
            return std::nullopt;
        case kControlReset:
            card.reset();
            log.event(CardEvent::Reset);
            return std::nullopt;
        case kControlGetAtr: {
            log.event(CardEvent::Atr);
            const ByteView atr = card.answerToReset();
            return Bytes(atr.begin(), atr.end());
        }
        default:
            return std::nullopt;  // not part of the protocol; vpcd expects no answer
        }
    }
    if (payload.empty()) return std::nullopt;
    Bytes response = card.transmit(payload);
    log.apdu(payload, response);
    return response;
}

}  // namespace vpcd

VpcdLink::VpcdLink(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

VpcdLink::~VpcdLink()
{
    disconnect();
}

bool VpcdLink::connect()
{
    disconnect();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port_);
    if (const int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found); rc != 0) {
        lastError_ = std::string("cannot resolve ") + host_ + ": " + ::gai_strerror(rc);
        return false;
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            // APDUs are small request/response pairs: send each at once.
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fd_ = fd;
            lastError_.clear();
            return true;
        }
        lastError_ = std::strerror(errno);
        ::close(fd);
    }
    return false;
}

void VpcdLink::disconnect() noexcept
{
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool VpcdLink::readExactly(std::uint8_t* out, std::size_t n)
{
    std::size_t done = 0;
    while (done < n) {
        // vpcd writes the length prefix and the payload as two segments; with
        // Nagle on its side the payload waits for our ACK of the prefix, which
        // delayed ACK would hold ~40 ms per message. TCP_QUICKACK is not sticky
        // (tcp(7)), so it is set before every read.
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        const ssize_t r = ::recv(fd_, out + done, n - done, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            lastError_ = r == 0 ? "closed by vpcd" : std::strerror(errno);
            return false;
        }
        done += static_cast<std::size_t>(r);
    }
    return true;
}

std::optional<Bytes> VpcdLink::receive()
{
    if (fd_ < 0) return std::nullopt;
    std::uint8_t prefix[vpcd::kLengthPrefix];
    if (!readExactly(prefix, sizeof prefix)) {
        disconnect();
        return std::nullopt;
    }
    Bytes payload(static_cast<std::size_t>(prefix[0]) << 8 | prefix[1]);
    if (!payload.empty() && !readExactly(payload.data(), payload.size())) {
        disconnect();
        return std::nullopt;
    }
    return payload;
}

bool VpcdLink::send(ByteView payload)
{
    if (fd_ < 0) return false;
    const Bytes framed = vpcd::frame(payload);
    std::size_t done = 0;
    while (done < framed.size()) {
        // MSG_NOSIGNAL: a vanished pcscd must be a return value, not a SIGPIPE.
        const ssize_t n = ::send(fd_, framed.data() + done, framed.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            lastError_ = std::strerror(errno);
            disconnect();
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace inkan::vcard
