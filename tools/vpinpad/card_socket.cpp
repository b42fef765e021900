#include "tools/vpinpad/card_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "tools/vpinpad/wiped.hpp"

namespace inkan::vpinpad {

namespace {

// One card at a time; a second one queues until the first leaves (as vpcd).
constexpr int kListenBacklog = 1;

[[noreturn]] void throwErrno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

CardSocket::CardSocket(std::uint16_t port)
{
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener_) throwErrno("socket");
    // pcscd restarted right after a card was in: the old connection's
    // TIME_WAIT must not keep the port.
    const int one = 1;
    if (::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) throwErrno("SO_REUSEADDR");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // local cards only
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        throwErrno("cannot listen on 127.0.0.1:" + std::to_string(port));
    }
    if (::listen(listener_.get(), kListenBacklog) != 0) throwErrno("listen");
}

bool CardSocket::cardPresent()
{
    if (card_) {
        pollfd watch{card_.get(), POLLIN | POLLRDHUP, 0};
        const int ready = ::poll(&watch, 1, 0);
        if (ready < 0 && errno != EINTR) {
            eject();
            return false;
        }
        if (ready > 0) {
            // Readable between exchanges means closed (the card never speaks
            // first); peek so a stray byte is not lost if it is not.
            std::uint8_t probe = 0;
            const ssize_t n = ::recv(card_.get(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
            const bool gone = (watch.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0 || n == 0 ||
                              (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
            if (gone) {
                eject();
                return false;
            }
        }
        return true;
    }
    const int accepted = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) return false;  // EAGAIN: no card waiting
    card_.reset(accepted);
    // Small request/answer messages: no Nagle delay.
    const int one = 1;
    ::setsockopt(card_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

void CardSocket::eject() noexcept
{
    card_.reset();
}

void CardSocket::sendControl(std::uint8_t control)
{
    const std::uint8_t payload[] = {control};
    sendFrame(payload);
}

Bytes CardSocket::exchange(ByteView payload)
{
    sendFrame(payload);
    std::uint8_t prefix[vpcd::kLengthPrefix];
    receiveExactly(prefix, sizeof prefix);
    Bytes answer((std::size_t{prefix[0]} << 8) | prefix[1]);
    if (!answer.empty()) receiveExactly(answer.data(), answer.size());
    return answer;
}

void CardSocket::sendFrame(ByteView payload)
{
    if (!card_) throw CardLost("no card in the slot");
    if (payload.size() > vpcd::kMaxPayload) throw std::length_error("vpcd message too long");
    WipedBytes frame(vpcd::kLengthPrefix + payload.size());
    frame.span()[0] = static_cast<std::uint8_t>(payload.size() >> 8);
    frame.span()[1] = static_cast<std::uint8_t>(payload.size() & 0xFF);
    std::memcpy(frame.data() + vpcd::kLengthPrefix, payload.data(), payload.size());
    std::size_t sent = 0;
    while (sent < frame.size()) {
        // MSG_NOSIGNAL: a card that vanished is an error here, not SIGPIPE in pcscd.
        const ssize_t n = ::send(card_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string reason = std::strerror(errno);
            eject();
            throw CardLost("sending to the card failed: " + reason);
        }
        sent += static_cast<std::size_t>(n);
    }
}

void CardSocket::receiveExactly(std::uint8_t* out, std::size_t n)
{
    std::size_t done = 0;
    while (done < n) {
        pollfd watch{card_.get(), POLLIN, 0};
        const int ready = ::poll(&watch, 1, static_cast<int>(kAnswerTimeout.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) {
            eject();
            throw CardLost("the card did not answer in time");
        }
        const ssize_t r = ready < 0 ? -1 : ::recv(card_.get(), out + done, n - done, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            const std::string reason = r == 0 ? "closed by the card" : std::strerror(errno);
            eject();
            throw CardLost("receiving from the card failed: " + reason);
        }
        done += static_cast<std::size_t>(r);
    }
}

}  // namespace inkan::vpinpad
