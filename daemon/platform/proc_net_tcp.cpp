#include "daemon/platform/proc_net_tcp.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>

namespace inkan::platform::procnet {

namespace {

// Whitespace-separated fields of a table line (the header comment).
constexpr std::size_t kLocalField = 1;
constexpr std::size_t kRemoteField = 2;
constexpr std::size_t kStateField = 3;
constexpr std::size_t kUidField = 7;
constexpr std::size_t kFieldsNeeded = kUidField + 1;

// TCP_TIME_WAIT, Linux include/net/tcp_states.h, printed with %02X.
constexpr std::string_view kTimeWaitState = "06";

constexpr std::size_t kWordDigits = 8;          // one 32-bit word of an address
constexpr std::size_t kIpv4Digits = kWordDigits;
constexpr std::size_t kIpv6Digits = 4 * kWordDigits;
constexpr std::size_t kPortDigits = 4;
constexpr int kBitsPerByte = 8;
constexpr std::uint32_t kByteMask = 0xFF;

template <typename Number>
std::optional<Number> number(std::string_view digits, int base)
{
    Number value{};
    const char* end = digits.data() + digits.size();
    const auto [at, error] = std::from_chars(digits.data(), end, value, base);
    if (digits.empty() || error != std::errc() || at != end) return std::nullopt;
    return value;
}

/// "0100007F:A3F2" (or 32 hex digits for IPv6) as an endpoint.
std::optional<TcpEndpoint> endpointOf(std::string_view text, std::endian byteOrder)
{
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view address = text.substr(0, colon);
    const std::string_view portDigits = text.substr(colon + 1);
    if ((address.size() != kIpv4Digits && address.size() != kIpv6Digits) || portDigits.size() != kPortDigits) {
        return std::nullopt;
    }
    const auto port = number<std::uint16_t>(portDigits, 16);
    if (!port) return std::nullopt;

    TcpEndpoint endpoint;
    endpoint.ipv6 = address.size() == kIpv6Digits;
    endpoint.port = *port;
    for (std::size_t word = 0; word < address.size() / kWordDigits; ++word) {
        const auto value = number<std::uint32_t>(address.substr(word * kWordDigits, kWordDigits), 16);
        if (!value) return std::nullopt;
        // The word is the address's 4 bytes as they lie in memory, read as a
        // host integer: the byte at the lowest address is the integer's least
        // significant on a little-endian machine, its most significant on a big-endian one.
        for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t shift = kBitsPerByte * (byteOrder == std::endian::little ? i : 3 - i);
            endpoint.address[word * 4 + i] = static_cast<std::uint8_t>((*value >> shift) & kByteMask);
        }
    }
    return endpoint;
}

bool sameEndpoint(const TcpEndpoint& listed, const TcpEndpoint& wanted)
{
    return listed.port == wanted.port && listed.mapped() == wanted.mapped();
}

/// The first `fields.size()` whitespace-separated fields of `line`; false when it has fewer.
bool splitFields(std::string_view line, std::array<std::string_view, kFieldsNeeded>& fields)
{
    std::size_t at = 0;
    for (auto& field : fields) {
        at = line.find_first_not_of(" \t", at);
        if (at == std::string_view::npos) return false;
        const auto end = std::min(line.find_first_of(" \t", at), line.size());
        field = line.substr(at, end - at);
        at = end;
    }
    return true;
}

}  // namespace

std::optional<UserId> findSocketOwner(std::string_view table, const TcpEndpoint& local, const TcpEndpoint& remote,
                                      std::endian byteOrder)
{
    std::array<std::string_view, kFieldsNeeded> fields;
    while (!table.empty()) {
        const auto newline = table.find('\n');
        const std::string_view line = table.substr(0, newline);
        table = newline == std::string_view::npos ? std::string_view() : table.substr(newline + 1);

        // The header line ("sl local_address ...") has no endpoint in field 1 and falls out here.
        if (!splitFields(line, fields) || fields[kStateField] == kTimeWaitState) continue;
        const auto listedLocal = endpointOf(fields[kLocalField], byteOrder);
        if (!listedLocal || !sameEndpoint(*listedLocal, local)) continue;
        const auto listedRemote = endpointOf(fields[kRemoteField], byteOrder);
        if (!listedRemote || !sameEndpoint(*listedRemote, remote)) continue;
        if (auto uid = number<UserId>(fields[kUidField], 10)) return uid;
    }
    return std::nullopt;
}

}  // namespace inkan::platform::procnet
