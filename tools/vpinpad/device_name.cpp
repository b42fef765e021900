#include "tools/vpinpad/device_name.hpp"

#include <charconv>

namespace inkan::vpinpad {

namespace {
constexpr char kSeparator = ':';
constexpr unsigned kMaxPort = 65535;
}  // namespace

std::optional<ReaderConfig> parseDeviceName(std::string_view deviceName)
{
    const std::size_t separator = deviceName.find(kSeparator);
    if (separator == std::string_view::npos || separator == 0) return std::nullopt;
    const std::string_view portText = deviceName.substr(0, separator);
    const std::string_view path = deviceName.substr(separator + 1);

    unsigned port = 0;
    const auto [end, error] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (error != std::errc{} || end != portText.data() + portText.size()) return std::nullopt;
    if (port == 0 || port > kMaxPort) return std::nullopt;
    if (path.empty() || path.front() != '/') return std::nullopt;
    if (path.find('\0') != std::string_view::npos) return std::nullopt;

    return ReaderConfig{static_cast<std::uint16_t>(port), std::string(path)};
}

}  // namespace inkan::vpinpad
