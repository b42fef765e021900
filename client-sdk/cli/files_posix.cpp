// inkan CLI — local files on POSIX systems (files.hpp): mkostemp + rename,
// file modes, the password database for the home directory.
#include "client-sdk/cli/files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client-sdk/cli/failure.hpp"

namespace inkan::cli {

std::string systemReason()
{
    return std::strerror(errno);
}

std::string readFile(const std::filesystem::path& path)
{
    FileDescriptor fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) throw Failure(ExitCode::LocalIo, "cannot read " + path.string() + ": " + systemReason());
    std::string content;
    char chunk[16 * 1024];
    for (;;) {
        ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Failure(ExitCode::LocalIo, "cannot read " + path.string() + ": " + systemReason());
        if (n == 0) break;
        content.append(chunk, static_cast<std::size_t>(n));
    }
    return content;
}

bool writeAll(int fd, std::string_view bytes) noexcept
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view text, unsigned mode)
{
    auto fail = [&path](const std::string& what) {
        return Failure(ExitCode::LocalIo, "cannot write " + path.string() + ": " + what);
    };
    std::filesystem::path directory = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::string pattern = (directory / ("." + path.filename().string() + ".XXXXXX")).string();
    std::vector<char> temporaryName(pattern.begin(), pattern.end());
    temporaryName.push_back('\0');
    FileDescriptor fd{::mkostemp(temporaryName.data(), O_CLOEXEC)};
    if (!fd) throw fail(systemReason());
    std::filesystem::path temporary(temporaryName.data());
    // Anything below that fails must not leave the temporary file behind.
    auto discard = [&temporary] { ::unlink(temporary.c_str()); };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0 || !writeAll(fd.get(), text) || ::fsync(fd.get()) != 0) {
        std::string reason = systemReason();
        discard();
        throw fail(reason);
    }
    if (::close(fd.release()) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
        std::string reason = systemReason();
        discard();
        throw fail(reason);
    }
}

void writeFileAtomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes, unsigned mode)
{
    writeFileAtomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), mode);
}

std::filesystem::path homeDirectory()
{
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
    if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr && entry->pw_dir != nullptr) return entry->pw_dir;
    throw Failure(ExitCode::LocalIo, "cannot find the home directory: HOME is not set");
}

}  // namespace inkan::cli
