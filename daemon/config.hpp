// inkan — inkand's configuration: defaults, then the JSON config file, then
// the command line (the command line wins).
//
//   --port N              (config "port", default 24713)
//   --allow-origin ORIGIN repeatable (config "allowedOrigins"); replaces the file's list
//   --allow-insecure-localhost-origins  (config "allowInsecureLocalhostOrigins") development only
//   --state-dir DIR       see state.hpp for the default
//   --config FILE         default $INKAN_CONFIG, else $XDG_CONFIG_HOME/inkan/inkand.json,
//                         else ~/.config/inkan/inkand.json; a missing file is fine
//   --version
//
// Who may connect (config file only; docs/security.md "Other users are refused at the door"):
//   "allowRootClients"              default false: root's connections are refused like other users'
//
// Certificate checks (config file only; docs/certificates.md):
//   "certificateExpiryWarningDays"  default 30
//   "trustAnchorsDir"               default <config file's directory>/trust-anchors
//   "revocation" {"enabled", "order", "ocspUrl", "crlUrl", "timeoutSeconds"}
//
// The 使用簿 (config file only; docs/audit.md):
//   "audit" {"dir", "segmentBytes", "keepSegments", "mirror"}
//                                  default <state>/audit, 4 MiB, 0 (keep all), "syslog"
//
// Running as a service (config file only; docs/service.md):
//   "idleExitSeconds"               default 0 (never): when systemd passed the
//                                   sockets, exit after this long without a connection
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/cert/certificate.hpp"
#include "daemon/security/policy.hpp"
#include "daemon/state.hpp"

namespace inkan::config {

inline constexpr std::uint16_t kDefaultPort = 24713;

inline constexpr int kDefaultRevocationTimeoutSeconds = 10;
// A token may ask for its PIN on its own keypad, or compute slowly: half a minute is hung.
inline constexpr int kDefaultPkcs11TimeoutSeconds = 30;

/// How certificates are checked for revocation (config key "revocation").
struct RevocationSettings {
    bool enabled = true;
    /// Sources in the order they are consulted: "ocsp", "crl" (each at most once).
    std::vector<std::string> order{"ocsp", "crl"};
    /// Used instead of the certificate's AIA / CDP URLs; plain http:// only.
    std::optional<std::string> ocspUrl;
    std::optional<std::string> crlUrl;
    int timeoutSeconds = kDefaultRevocationTimeoutSeconds;  // per request
};

inline constexpr std::uint64_t kDefaultAuditSegmentBytes = 4U * 1024U * 1024U;

/// Where and how the usage ledger is kept (config key "audit").
struct AuditSettings {
    /// Relative paths are relative to the config file; empty: <state>/audit.
    std::filesystem::path dir;
    std::uint64_t segmentBytes = kDefaultAuditSegmentBytes;
    int keepSegments = 0;  // 0: keep every segment
    /// Where every record is copied too: "syslog" (the journal), "stderr" or "off".
    std::string mirror = "syslog";
};

/// The configuration is unusable; the message names the file or option and is for the user.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Config {
    std::uint16_t port = kDefaultPort;
    /// Serialized origins (RFC 6454 §6.2), lower-case scheme and host, no
    /// trailing slash: the origins of security.allowedOrigins, in order.
    std::vector<std::string> allowedOrigins;
    /// Origins with what they may do, PIN guard, pinentry, card rules
    /// (docs/security.md "Configuration"; keys parsed by daemon/security/policy.cpp).
    security::PolicySettings security;
    std::optional<std::filesystem::path> stateDir;  // --state-dir, if given
    std::filesystem::path configFile;               // the file consulted (it may not exist)
    bool configFileFound = false;
    std::vector<std::string> warnings;              // e.g. unknown keys in the file

    /// Admit connections of root besides those of inkand's own user.
    bool allowRootClients = false;

    /// A certificate within this many days of its notAfter is "expiringSoon".
    int certificateExpiryWarningDays = cert::kDefaultExpiryWarningDays;
    /// PEM/DER roots (anchors) and intermediates chains are validated against;
    /// empty when there is no config directory to default to.
    std::filesystem::path trustAnchorsDir;
    RevocationSettings revocation;
    AuditSettings audit;

    /// Socket-activated only: exit after this many seconds without an open
    /// connection; 0: serve until stopped.
    int idleExitSeconds = 0;

    /// PKCS#11 modules whose tokens are listed as cards (docs/credentials.md):
    /// config "pkcs11Modules", or every --pkcs11-module instead.
    std::vector<std::filesystem::path> pkcs11Modules;
    /// How long one call into a module may take before its helper process
    /// is taken for hung and restarted (config "pkcs11TimeoutSeconds").
    int pkcs11TimeoutSeconds = kDefaultPkcs11TimeoutSeconds;
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
