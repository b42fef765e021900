// inkan fuzz target: the parser of Linux's socket tables /proc/net/tcp and
// tcp6 (daemon/platform/proc_net_tcp.hpp), which decides whose connection
// inkand serves. The kernel writes that text, not a caller, but a parser that
// guards the door must take anything without crashing.
//
// It must never crash or read out of bounds, and a matching line is never
// lost: whatever text comes before it, a well-formed line for the endpoints
// asked about is found (the first match wins, so the uid may be an earlier one).
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_proc_net_tcp_replay and run over tests/fuzz/seeds/proc_net_tcp/ by ctest (fuzz.replay).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/platform/proc_net_tcp.hpp"

namespace {

using inkan::platform::TcpEndpoint;

// 127.0.0.1:35652 connected to 127.0.0.1:24713, and ::1 the same, as a little-endian machine prints them.
const TcpEndpoint kPeer4 = TcpEndpoint::v4({127, 0, 0, 1}, 35652);
const TcpEndpoint kServer4 = TcpEndpoint::v4({127, 0, 0, 1}, 24713);
const TcpEndpoint kPeer6 = TcpEndpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 35652);
const TcpEndpoint kServer6 = TcpEndpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 24713);
constexpr std::string_view kLine4 = "\n   9: 0100007F:8B44 0100007F:6089 01 00000000:00000000 00:00000000 00000000  4242 0 1\n";
constexpr std::string_view kLine6 =
    "\n   9: 00000000000000000000000001000000:8B44 00000000000000000000000001000000:6089 01 0:0 0:0 0  4242 0 1\n";

void lookUpEverything(std::string_view text)
{
    for (const auto order : {std::endian::little, std::endian::big}) {
        (void)inkan::platform::procnet::findSocketOwner(text, kPeer4, kServer4, order);
        (void)inkan::platform::procnet::findSocketOwner(text, kPeer6, kServer6, order);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    lookUpEverything(text);
    if (!inkan::platform::procnet::findSocketOwner(text + std::string(kLine4), kPeer4, kServer4, std::endian::little)) {
        std::abort();
    }
    if (!inkan::platform::procnet::findSocketOwner(text + std::string(kLine6), kPeer6, kServer6, std::endian::little)) {
        std::abort();
    }
    return 0;
}
