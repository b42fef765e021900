// inkan — the peer's user on Linux (peer_uid.hpp), from the kernel's socket
// table: asked for the one socket through sock_diag netlink (sock_diag(7),
// inet_diag: an exact lookup by its four-tuple, the same table and the same
// owner /proc shows), else read from /proc/net/tcp{,6} (proc_net_tcp.hpp).
// Reading /proc makes the kernel print every socket it has, some
// milliseconds of CPU on every connection; the netlink question is one hash
// lookup, so /proc is only the fallback for a kernel without sock_diag.
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>
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

// --- sock_diag (netlink) ---------------------------------------------------

/// What the kernel answered about one socket.
enum class DiagAnswer { Found, NotFound, Unavailable };

struct DiagRequest {
    nlmsghdr header;
    inet_diag_req_v2 request;
};

/// Copies `endpoint`'s address into an inet_diag address field (network byte
/// order; IPv4 in the first word, IPv6 in all four).
void putAddress(__be32 (&field)[4], const std::array<std::uint8_t, 16>& bytes, std::size_t length)
{
    std::memcpy(field, bytes.data(), length);
}

/// Asks the kernel for the TCP socket whose own end is `peer` and whose
/// remote end is `local`, as a socket of `family` (AF_INET, or AF_INET6 with
/// IPv4-mapped addresses for an IPv4 peer that connected from an IPv6 socket).
DiagAnswer askSockDiag(int family, const TcpEndpoint& peer, const TcpEndpoint& local, UserId& owner)
{
    const FileDescriptor socket(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!socket) return DiagAnswer::Unavailable;

    DiagRequest message{};
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;  // one socket, not a dump
    message.request.sdiag_family = static_cast<__u8>(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    inet_diag_sockid& id = message.request.id;
    id.idiag_sport = htons(peer.port);
    id.idiag_dport = htons(local.port);
    if (family == AF_INET) {
        putAddress(id.idiag_src, peer.address, 4);
        putAddress(id.idiag_dst, local.address, 4);
    } else {
        putAddress(id.idiag_src, peer.mapped(), 16);
        putAddress(id.idiag_dst, local.mapped(), 16);
    }
    id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(socket.get(), &message, sizeof(message), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof(kernel)) != static_cast<ssize_t>(sizeof(message))) {
        return DiagAnswer::Unavailable;
    }
    alignas(nlmsghdr) std::array<char, 8192> buffer{};
    ssize_t received = -1;
    do {
        received = ::recv(socket.get(), buffer.data(), buffer.size(), 0);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return DiagAnswer::Unavailable;

    auto length = static_cast<unsigned int>(received);
    for (auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
        if (header->nlmsg_type == NLMSG_ERROR) {
            if (header->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return DiagAnswer::Unavailable;
            const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
            // ENOENT: no such socket. Anything else: the kernel cannot answer.
            return error->error == -ENOENT ? DiagAnswer::NotFound : DiagAnswer::Unavailable;
        }
        if (header->nlmsg_type == SOCK_DIAG_BY_FAMILY && header->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
            owner = static_cast<const inet_diag_msg*>(NLMSG_DATA(header))->idiag_uid;
            return DiagAnswer::Found;
        }
    }
    return DiagAnswer::Unavailable;
}

// --- /proc ---------------------------------------------------------------------

std::optional<UserId> lookUpInProc(const TcpEndpoint& peer, const TcpEndpoint& local)
{
    // An IPv4 peer is an AF_INET socket (tcp), or an AF_INET6 socket that
    // connected to ::ffff:127.0.0.1 (tcp6, IPv4-mapped).
    if (!peer.ipv6) {
        if (auto owner = ownerIn(kTcp4Table, peer, local)) return owner;
    }
    return ownerIn(kTcp6Table, peer, local);
}

std::optional<UserId> lookUp(const TcpEndpoint& peer, const TcpEndpoint& local)
{
    // An IPv4 peer's socket is AF_INET, or AF_INET6 connected to ::ffff:127.0.0.1.
    static constexpr std::array kIpv4PeerFamilies{AF_INET, AF_INET6};
    static constexpr std::array kIpv6PeerFamilies{AF_INET6};
    const std::span<const int> families = peer.ipv6 ? std::span<const int>(kIpv6PeerFamilies)
                                                    : std::span<const int>(kIpv4PeerFamilies);
    bool kernelAnswered = false;
    for (const int family : families) {
        UserId owner = 0;
        switch (askSockDiag(family, peer, local, owner)) {
        case DiagAnswer::Found: return owner;
        case DiagAnswer::NotFound: kernelAnswered = true; break;
        case DiagAnswer::Unavailable: break;
        }
    }
    if (kernelAnswered) return std::nullopt;
    return lookUpInProc(peer, local);
}

}  // namespace

UserId currentUser() { return static_cast<UserId>(::geteuid()); }

bool isAdministrator(UserId user) { return user == kRootUser; }

std::string userName(UserId user)
{
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (::getpwuid_r(static_cast<uid_t>(user), &entry, buffer.data(), buffer.size(), &found) == 0 && found &&
        found->pw_name) {
        return found->pw_name;
    }
    return "uid " + std::to_string(user);
}

std::optional<UserId> loopbackPeerUser(const TcpEndpoint& peer, const TcpEndpoint& local)
{
    // The peer's socket is listed from the moment its connect() completed,
    // before we could accept. But when /proc is read, the kernel prints the
    // table piece by piece, walking its hash buckets: sockets closing
    // elsewhere between two pieces can make one entry slip past the reader.
    // One more look covers that.
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
