// Who is on the other end of a loopback connection: the socket tables of
// /proc/net/tcp and tcp6 as the kernel prints them (samples taken from a
// little-endian machine, one written as a big-endian machine prints it), and
// the lookup against this machine's own sockets.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "daemon/file_descriptor.hpp"
#include "daemon/platform/peer_uid.hpp"
#include "daemon/platform/proc_net_tcp.hpp"

using namespace inkan;
using namespace inkan::platform;
using procnet::findSocketOwner;

namespace {

constexpr std::uint16_t kServerPort = 24713;  // 0x6089
constexpr std::uint16_t kPeerPort = 35652;    // 0x8B44

const TcpEndpoint kLoopback4 = TcpEndpoint::v4({127, 0, 0, 1}, kServerPort);
const TcpEndpoint kPeer4 = TcpEndpoint::v4({127, 0, 0, 1}, kPeerPort);
const TcpEndpoint kLoopback6 = TcpEndpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, kServerPort);
const TcpEndpoint kPeer6 = TcpEndpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, kPeerPort);

// inkand (uid 1000) listens on 127.0.0.1:24713 and has accepted a connection
// from port 35652 of a process of uid 1001; uid 1002's earlier connection from
// 35664 is in TIME_WAIT; 127.0.0.2 is another loopback address.
const std::string kTcp4 =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:6089 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 26248 1 00000000 100 0 0 10 0\n"
    "   1: 0100007F:6089 0100007F:8B44 01 00000000:00000000 00:00000000 00000000  1000        0 26252 1 00000000 20 0 0 10 -1\n"
    "   2: 0100007F:8B44 0100007F:6089 01 00000000:00000000 00:00000000 00000000  1001        0 26249 2 00000000 20 0 0 10 -1\n"
    "   3: 0100007F:8B50 0100007F:6089 06 00000000:00000000 03:00001770 00000000     0        0 0 3 00000000\n"
    "   4: 0200007F:8B60 0100007F:6089 01 00000000:00000000 00:00000000 00000000  1003        0 26260 2 00000000 20 0 0 10 -1\n";

// On [::1]: uid 1001 connected from ::1 port 35652; uid 1004 from an AF_INET6
// socket to ::ffff:127.0.0.1 (listed here, IPv4-mapped, though it reached the IPv4 listener).
const std::string kTcp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:6089 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 26246 1 00000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:8B44 00000000000000000000000001000000:6089 01 00000000:00000000 00:00000000 00000000  1001        0 26247 2 00000000 20 0 0 10 -1\n"
    "   2: 00000000000000000000000001000000:6089 00000000000000000000000001000000:8B44 01 00000000:00000000 00:00000000 00000000  1000        0 26251 1 00000000 20 0 0 10 -1\n"
    "   3: 0000000000000000FFFF00000100007F:8B54 0000000000000000FFFF00000100007F:6089 01 00000000:00000000 00:00000000 00000000  1004        0 26250 2 00000000 20 0 0 10 -1\n";

// The IPv4 table's peer line as a big-endian machine prints it.
const std::string kTcp4BigEndian =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 7F000001:8B44 7F000001:6089 01 00000000:00000000 00:00000000 00000000  1001        0 26249 2 00000000\n";

std::optional<UserId> ownerLE(const std::string& table, const TcpEndpoint& local, const TcpEndpoint& remote)
{
    return findSocketOwner(table, local, remote, std::endian::little);
}

/// A real loopback connection of this process: the listening end and the connecting end.
struct LoopbackPair {
    FileDescriptor listener{::socket(AF_INET, SOCK_STREAM, 0)};
    FileDescriptor client{::socket(AF_INET, SOCK_STREAM, 0)};
    sockaddr_in server{};
    sockaddr_in own{};

    LoopbackPair()
    {
        server.sin_family = AF_INET;
        server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
        REQUIRE(::listen(listener.get(), 1) == 0);
        socklen_t length = sizeof server;
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&server), &length);
        REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
        length = sizeof own;
        ::getsockname(client.get(), reinterpret_cast<sockaddr*>(&own), &length);
    }

    static TcpEndpoint endpoint(const sockaddr_in& address)
    {
        std::array<std::uint8_t, 4> bytes{};
        std::memcpy(bytes.data(), &address.sin_addr, bytes.size());
        return TcpEndpoint::v4(bytes, ntohs(address.sin_port));
    }
};

}  // namespace

TEST_SUITE("platform peer uid")
{
    TEST_CASE("the peer's socket is the one whose local address is the peer and remote address is ours")
    {
        CHECK(ownerLE(kTcp4, kPeer4, kLoopback4) == 1001U);
        // Our own accepted socket is the same pair the other way round.
        CHECK(ownerLE(kTcp4, kLoopback4, kPeer4) == 1000U);
    }

    TEST_CASE("address and port must both match")
    {
        CHECK_FALSE(ownerLE(kTcp4, TcpEndpoint::v4({127, 0, 0, 1}, 35653), kLoopback4));
        CHECK_FALSE(ownerLE(kTcp4, kPeer4, TcpEndpoint::v4({127, 0, 0, 1}, 24714)));
        CHECK_FALSE(ownerLE(kTcp4, TcpEndpoint::v4({127, 0, 0, 3}, 0x8B60), kLoopback4));
        CHECK(ownerLE(kTcp4, TcpEndpoint::v4({127, 0, 0, 2}, 0x8B60), kLoopback4) == 1003U);
    }

    TEST_CASE("a socket in TIME_WAIT has no owner (the kernel prints uid 0): not found, not root")
    {
        CHECK_FALSE(ownerLE(kTcp4, TcpEndpoint::v4({127, 0, 0, 1}, 0x8B50), kLoopback4));
    }

    TEST_CASE("IPv6: ::1 in four words, each in the machine's byte order")
    {
        CHECK(ownerLE(kTcp6, kPeer6, kLoopback6) == 1001U);
        CHECK(ownerLE(kTcp6, kLoopback6, kPeer6) == 1000U);
        // The IPv4 peer with the same port is not an IPv6 one.
        CHECK_FALSE(ownerLE(kTcp6, kPeer4, kLoopback4));
    }

    TEST_CASE("an IPv4 peer from an AF_INET6 socket is listed in tcp6 as ::ffff:127.0.0.1")
    {
        CHECK(ownerLE(kTcp6, TcpEndpoint::v4({127, 0, 0, 1}, 0x8B54), kLoopback4) == 1004U);
        // ... and an IPv6 endpoint written as the mapped address is the same endpoint.
        const TcpEndpoint mapped = TcpEndpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1}, 0x8B54);
        CHECK(ownerLE(kTcp6, mapped, kLoopback4) == 1004U);
    }

    TEST_CASE("byte order: the words are read as the printing machine stored them")
    {
        CHECK(findSocketOwner(kTcp4BigEndian, kPeer4, kLoopback4, std::endian::big) == 1001U);
        // Read with the wrong byte order, 7F000001 is 1.0.0.127.
        CHECK_FALSE(findSocketOwner(kTcp4BigEndian, kPeer4, kLoopback4, std::endian::little));
        CHECK_FALSE(findSocketOwner(kTcp4, kPeer4, kLoopback4, std::endian::big));
        CHECK(findSocketOwner(kTcp4, TcpEndpoint::v4({1, 0, 0, 127}, kPeerPort), TcpEndpoint::v4({1, 0, 0, 127}, kServerPort),
                              std::endian::big) == 1001U);
    }

    TEST_CASE("malformed lines are skipped, the rest is still read")
    {
        const std::string table = "garbage\n"
                                  "   0: 0100007F:8B44\n"
                                  "   1: 0100007Z:8B44 0100007F:6089 01 0:0 0:0 0 1005 0 1\n"
                                  "   2: 0100007F:8B44 0100007F:6089 01 0:0 0:0 0 -7 0 1\n"
                                  "   3: 0100007F:8B4 0100007F:6089 01 0:0 0:0 0 1006 0 1\n"
                                  "   4: 0100007F:8B44 0100007F:6089 01 0:0 0:0 0 1007 0 1";  // no final newline
        CHECK(ownerLE(table, kPeer4, kLoopback4) == 1007U);
        CHECK_FALSE(ownerLE("", kPeer4, kLoopback4));
    }

    TEST_CASE("this machine: a loopback connection of this process is owned by this process's user")
    {
        REQUIRE_FALSE(peerLookupUnavailable());
        LoopbackPair pair;
        const auto client = LoopbackPair::endpoint(pair.own);
        const auto server = LoopbackPair::endpoint(pair.server);
        CHECK(loopbackPeerUser(client, server) == currentUser());
        // A port nobody connected from.
        CHECK_FALSE(loopbackPeerUser(TcpEndpoint::v4({127, 0, 0, 1}, static_cast<std::uint16_t>(client.port + 1)), server));
        CHECK(isAdministrator(0));
        CHECK_FALSE(isAdministrator(1000));
    }
}
