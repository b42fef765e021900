// inkan-vpinpad — the reader's configuration, carried in reader.conf's
// DEVICENAME (the only per-reader string pcscd hands a serial driver).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::vpinpad {

/// The port of the sample conf file (tools/vpinpad/inkan-vpinpad.conf);
/// vpcd's own slots use 35963 and 35964.
inline constexpr std::uint16_t kDefaultCardPort = 35970;

struct ReaderConfig {
    std::uint16_t cardPort = kDefaultCardPort;  // 127.0.0.1 port the card connects to
    std::string keypadFile;                     // absolute path: "what the user types"
};

/// Parses "PORT:KEYPAD_FILE", e.g. "35970:/tmp/run/keypad": a decimal port
/// 1-65535 before the first ':', then an absolute path (pcscd's working
/// directory is nobody's business). nullopt on anything else.
std::optional<ReaderConfig> parseDeviceName(std::string_view deviceName);

}  // namespace inkan::vpinpad
