// inkan — inkand's configuration: defaults, then the JSON config file, then
// the command line (the command line wins).
//
//   --port N              (config "port", default 24713)
//   --allow-origin ORIGIN repeatable (config "allowedOrigins"); replaces the file's list
//   --state-dir DIR       see state.hpp for the default
//   --config FILE         default $INKAN_CONFIG, else $XDG_CONFIG_HOME/inkan/inkand.json,
//                         else ~/.config/inkan/inkand.json; a missing file is fine
//   --version
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/state.hpp"

namespace inkan::config {

inline constexpr std::uint16_t kDefaultPort = 24713;

/// The configuration is unusable; the message names the file or option and is for the user.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Config {
    std::uint16_t port = kDefaultPort;
    /// Serialized origins (RFC 6454 §6.2), lower-case scheme and host, no trailing slash.
    std::vector<std::string> allowedOrigins;
    std::optional<std::filesystem::path> stateDir;  // --state-dir, if given
    std::filesystem::path configFile;               // the file consulted (it may not exist)
    bool configFileFound = false;
    std::vector<std::string> warnings;              // e.g. unknown keys in the file
};

/// The process should exit right away (--help, --version, a usage error)
/// with this code, after printing `output` (to stdout when code is 0, else stderr).
struct EarlyExit {
    int code = 0;
    std::string output;
};

/// Parse the command line and the config file. Throws ConfigError for a bad
/// config file or option value.
std::variant<Config, EarlyExit> load(int argc, const char* const* argv,
                                     const state::Environment& environment = state::processEnvironment);

/// The config file path when --config is not given (see the header comment).
std::filesystem::path defaultConfigFile(const state::Environment& environment);

/// Check and normalize one allowed origin: "scheme://host[:port]" with scheme
/// http or https, no path, query, fragment or user info; scheme and host are
/// lower-cased and a default port is dropped, as browsers serialize origins.
/// Throws ConfigError naming `source` (e.g. "--allow-origin").
std::string normalizeOrigin(std::string_view origin, std::string_view source);

}  // namespace inkan::config
