// inkan — the peer's user on Linux, from the kernel's socket tables in /proc
// (peer_uid.hpp, proc_net_tcp.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "daemon/file_descriptor.hpp"
#include "daemon/platform/peer_uid.hpp"
#include "daemon/platform/proc_net_tcp.hpp"

namespace inkan::platform {

namespace {

constexpr const char* kTcp4Table = "/proc/net/tcp";
constexpr const char* kTcp6Table = "/proc/net/tcp6";  // absent without IPv6
constexpr UserId kRootUser = 0;

// The kernel prints a table piece by piece, one read() at a time; a large
// buffer makes a table of a few hundred sockets one piece.
constexpr std::size_t kReadChunk = 64 * 1024;

std::optional<std::string> readTable(const char* path)
{
    const FileDescriptor file(::open(path, O_RDONLY | O_CLOEXEC));
    if (!file) return std::nullopt;
    std::string text;
    std::size_t used = 0;
    while (true) {
        text.resize(used + kReadChunk);
        const ssize_t n = ::read(file.get(), text.data() + used, kReadChunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return text;
}

std::optional<UserId> ownerIn(const char* path, const TcpEndpoint& peer, const TcpEndpoint& local)
{
    const auto table = readTable(path);
    if (!table) return std::nullopt;
    return procnet::findSocketOwner(*table, peer, local);
}

std::optional<UserId> lookUp(const TcpEndpoint& peer, const TcpEndpoint& local)
{
    // An IPv4 peer is an AF_INET socket (tcp), or an AF_INET6 socket that
    // connected to ::ffff:127.0.0.1 (tcp6, IPv4-mapped).
    if (!peer.ipv6) {
        if (auto owner = ownerIn(kTcp4Table, peer, local)) return owner;
    }
    return ownerIn(kTcp6Table, peer, local);
}

}  // namespace

UserId currentUser() { return static_cast<UserId>(::geteuid()); }

bool isAdministrator(UserId user) { return user == kRootUser; }

std::optional<UserId> loopbackPeerUser(const TcpEndpoint& peer, const TcpEndpoint& local)
{
    // The peer's socket is listed from the moment its connect() completed,
    // before we could accept. But the kernel prints the table piece by piece,
    // walking its hash buckets: sockets closing elsewhere between two pieces
    // can make one entry slip past the reader. One more reading covers that.
    if (auto owner = lookUp(peer, local)) return owner;
    return lookUp(peer, local);
}

std::optional<std::string> peerLookupUnavailable()
{
    if (!readTable(kTcp4Table)) {
        return std::string("cannot read ") + kTcp4Table +
               " (is /proc mounted?): inkand needs it to refuse connections of other users";
    }
    return std::nullopt;
}

}  // namespace inkan::platform
