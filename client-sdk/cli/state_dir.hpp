// inkan CLI — where inkand keeps what a client needs: the API token and the
// local CA that issued the daemon's TLS certificate.
#pragma once

#include <filesystem>
#include <string>

#include "daemon/secret.hpp"

namespace inkan::cli {

class StateDir {
public:
    /// `override` (from --state-dir) when not empty, else $INKAN_STATE_DIR,
    /// else $XDG_STATE_HOME/inkan, else ~/.local/state/inkan (docs: design.md).
    static StateDir resolve(const std::string& override);

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path tokenFile() const { return path_ / "token"; }
    std::filesystem::path caFile() const { return path_ / "tls" / "ca.pem"; }

    /// The API token. A missing file means inkand never ran with this state
    /// directory: Failure(Unreachable) with a hint; unreadable: Failure(LocalIo).
    Secret readToken() const;

    /// Failure(Unreachable) with a hint when the CA file does not exist.
    void requireCaFile() const;

private:
    explicit StateDir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

}  // namespace inkan::cli
