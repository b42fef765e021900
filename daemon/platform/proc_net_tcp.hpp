// inkan — Linux's socket tables /proc/net/tcp and /proc/net/tcp6, read as
// text (proc(5); the kernel prints them in net/ipv4/tcp_ipv4.c get_tcp4_sock()
// and net/ipv6/tcp_ipv6.c get_tcp6_sock()). Pure: the unit tests feed it samples.
//
// A line after the header reads
//   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//    0: 0100007F:A3F2 0100007F:5EE9 01 00000000:00000000 00:00000000 00000000  1000  0 51234 ...
// Addresses are 32-bit words printed with %08X as they lie in memory (network
// byte order read as a host integer: 127.0.0.1 is 0100007F on a little-endian
// machine), four words for IPv6; ports are %04X of the host-order port.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/platform/peer_uid.hpp"

namespace inkan::platform::procnet {

/// The uid of the socket in `table` (the text of /proc/net/tcp or tcp6) whose
/// local address is `local` and remote address is `remote`. An IPv4 endpoint
/// also matches its IPv4-mapped form (an AF_INET6 socket connected to
/// ::ffff:127.0.0.1 is listed in tcp6 so). Entries in TIME_WAIT are skipped:
/// they belong to nobody any more and the kernel prints uid 0 for them.
/// Malformed lines are ignored. `byteOrder` is the byte order of the machine
/// that printed the table.
std::optional<UserId> findSocketOwner(std::string_view table, const TcpEndpoint& local, const TcpEndpoint& remote,
                                      std::endian byteOrder = std::endian::native);

}  // namespace inkan::platform::procnet
