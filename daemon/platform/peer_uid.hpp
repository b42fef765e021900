// inkan — which OS user is on the other end of a loopback TCP connection.
//
// inkand closes every connection whose peer runs as another user before TLS
// (docs/security.md "Other users are refused at the door"). Both ends of a
// loopback connection are sockets of this machine, so the peer's socket can be
// looked up by its address and port, the way identd (RFC 1413) answers. This
// header is the seam for the platform: it takes endpoints as plain values and
// knows no socket library. peer_uid_linux.cpp implements it with a sock_diag
// netlink query, falling back to /proc/net/tcp{,6} (proc_net_tcp.hpp);
// another platform adds its own file.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace inkan::platform {

/// One end of a TCP connection.
struct TcpEndpoint {
    /// In network byte order; an IPv4 address fills the first 4 bytes.
    std::array<std::uint8_t, 16> address{};
    bool ipv6 = false;
    std::uint16_t port = 0;

    static TcpEndpoint v4(const std::array<std::uint8_t, 4>& bytes, std::uint16_t port)
    {
        TcpEndpoint endpoint;
        std::copy(bytes.begin(), bytes.end(), endpoint.address.begin());
        endpoint.port = port;
        return endpoint;
    }

    static TcpEndpoint v6(const std::array<std::uint8_t, 16>& bytes, std::uint16_t port)
    {
        return TcpEndpoint{bytes, true, port};
    }

    /// The 16-byte IPv6 form of the address: an IPv4 address as ::ffff:a.b.c.d
    /// (IPv4-mapped, RFC 4291 §2.5.5.2).
    std::array<std::uint8_t, 16> mapped() const
    {
        if (ipv6) return address;
        std::array<std::uint8_t, 16> bytes{};
        bytes[10] = 0xFF;
        bytes[11] = 0xFF;
        std::copy_n(address.begin(), 4, bytes.begin() + 12);
        return bytes;
    }

    friend bool operator==(const TcpEndpoint&, const TcpEndpoint&) = default;
};

/// A user as the operating system numbers it (a POSIX uid).
using UserId = std::uint32_t;

/// The user this process acts as (its effective uid).
UserId currentUser();

/// Whether `user` is the system's administrator (root, uid 0).
bool isAdministrator(UserId user);

/// The user's login name from the system's user database, or "uid N" when
/// it has none.
std::string userName(UserId user);

/// The owner of the peer's socket of a loopback connection accepted on `local`
/// from `peer`: the socket whose own address is `peer` and whose remote address
/// is `local`. nullopt when it cannot be found (the peer has already closed, or
/// the socket tables cannot be read): callers refuse then.
std::optional<UserId> loopbackPeerUser(const TcpEndpoint& peer, const TcpEndpoint& local);

/// Why loopbackPeerUser() cannot work on this machine (e.g. /proc is not
/// mounted), or nullopt when it can. Checked once at start-up.
std::optional<std::string> peerLookupUnavailable();

}  // namespace inkan::platform
