// inkan — the daemon's state directory: the local API token and the local TLS
// material (a per-install CA whose key is never stored, and the server's leaf).
//
// Layout (design.md):
//   <state>/token               32 random bytes as hex, mode 0600
//   <state>/tls/ca.pem          the CA certificate users may trust (no key anywhere)
//   <state>/tls/server.pem      the server's leaf certificate
//   <state>/tls/server-key.pem  the leaf's private key, mode 0600
#pragma once

#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "daemon/secret.hpp"

namespace inkan::state {

/// A state-directory problem the daemon cannot start with; the message is for the user.
class StateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Reads an environment variable; empty values count as unset. Injected so
/// tests do not depend on the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
std::optional<std::string> processEnvironment(std::string_view name);

struct StatePaths {
    std::filesystem::path dir;
    std::filesystem::path token;
    std::filesystem::path tlsDir;
    std::filesystem::path caCertificate;
    std::filesystem::path serverCertificate;
    std::filesystem::path serverKey;

    static StatePaths under(const std::filesystem::path& dir);
};

/// `override` (--state-dir), else $INKAN_STATE_DIR, else $XDG_STATE_HOME/inkan
/// (only if absolute, as the XDG spec demands), else $HOME/.local/state/inkan.
std::filesystem::path resolveStateDir(const std::optional<std::filesystem::path>& override,
                                      const Environment& environment = processEnvironment);

/// Create the state and tls directories with mode 0700, tightening existing
/// ones. Throws StateError.
StatePaths prepareStateDir(const std::filesystem::path& dir);

struct Token {
    Secret value;          // 64 lower-case hex digits
    bool created = false;  // a new token was written (none or an invalid one was there)
};

/// Reuse <state>/token when it holds a valid token (and make it 0600), else
/// write a new one. Throws StateError.
Token loadOrCreateToken(const StatePaths& paths);

struct TlsStatus {
    bool regenerated = false;
    bool replacedCa = false;  // a CA existed before: users must trust the new one again
    std::string reason;       // why it was regenerated, e.g. "server.pem expires within 30 days"
};

/// Make sure the TLS files are usable at `now`: present, parseable, the leaf
/// signed by the CA and matching the key, neither expiring within 30 days.
/// Otherwise generate everything anew: a CA (ECDSA P-256) whose private key
/// lives only in memory, signs the leaf and is freed; and the leaf (ECDSA
/// P-256, localhost/127.0.0.1/::1, serverAuth, 825 days). Throws StateError.
TlsStatus ensureTlsMaterial(const StatePaths& paths, std::time_t now = std::time(nullptr));

}  // namespace inkan::state
