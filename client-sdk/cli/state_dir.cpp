#include "client-sdk/cli/state_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include <openssl/crypto.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"

namespace inkan::cli {
namespace {

std::string neverStartedHint(const std::filesystem::path& dir)
{
    return "inkand creates it on its first start: start inkand, or pass the state directory it uses "
           "with --state-dir (now " + dir.string() + ")";
}

std::filesystem::path fromEnvironment(const char* name)
{
    const char* value = std::getenv(name);
    // The XDG base directory spec says relative paths are invalid and must be ignored.
    if (value == nullptr || value[0] != '/') return {};
    return value;
}

}  // namespace

StateDir StateDir::resolve(const std::string& override)
{
    if (!override.empty()) return StateDir(std::filesystem::absolute(override));
    if (auto dir = fromEnvironment("INKAN_STATE_DIR"); !dir.empty()) return StateDir(dir);
    if (auto dir = fromEnvironment("XDG_STATE_HOME"); !dir.empty()) return StateDir(dir / "inkan");
    return StateDir(homeDirectory() / ".local" / "state" / "inkan");
}

Secret StateDir::readToken() const
{
    std::filesystem::path file = tokenFile();
    std::error_code ignored;
    if (!std::filesystem::exists(file, ignored)) {
        throw Failure(ExitCode::Unreachable, "no API token at " + file.string(), neverStartedHint(path_));
    }
    std::string content = readFile(file);
    std::string_view token(content);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.remove_suffix(1);
    Secret secret(token);
    OPENSSL_cleanse(content.data(), content.size());
    if (secret.empty()) throw Failure(ExitCode::Unreachable, "the API token file " + file.string() + " is empty", neverStartedHint(path_));
    return secret;
}

void StateDir::requireCaFile() const
{
    std::error_code ignored;
    if (!std::filesystem::exists(caFile(), ignored)) {
        throw Failure(ExitCode::Unreachable, "no local CA certificate at " + caFile().string(), neverStartedHint(path_));
    }
}

}  // namespace inkan::cli
