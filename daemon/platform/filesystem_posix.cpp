// inkan — the user's own files on POSIX systems (filesystem.hpp): modes,
// mkstemp + rename, O_APPEND + fdatasync.
#include "daemon/platform/filesystem.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon/file_descriptor.hpp"

namespace inkan::platform {

namespace fs = std::filesystem;

namespace {

constexpr mode_t kPrivateDirMode = 0700;
constexpr mode_t kOwnerOnlyFileMode = 0600;
constexpr mode_t kEveryoneReadsFileMode = 0644;
constexpr mode_t kPermissionBits = 07777;

mode_t modeOf(FileAccess access) { return access == FileAccess::OwnerOnly ? kOwnerOnlyFileMode : kEveryoneReadsFileMode; }

std::string systemError(const std::string& what, int error) { return what + ": " + std::strerror(error); }

std::error_code lastError() { return {errno, std::generic_category()}; }

}  // namespace

void makePrivateDirectory(const fs::path& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw FileError("cannot create " + dir.string() + ": " + ec.message());
    struct stat info {};
    if (::lstat(dir.c_str(), &info) != 0) throw FileError(systemError("cannot inspect " + dir.string(), errno));
    if (!S_ISDIR(info.st_mode)) throw FileError(dir.string() + " is not a directory");
    if (info.st_uid != ::geteuid()) throw FileError(dir.string() + " belongs to another user");
    if ((info.st_mode & kPermissionBits) != kPrivateDirMode && ::chmod(dir.c_str(), kPrivateDirMode) != 0) {
        throw FileError(systemError("cannot make " + dir.string() + " private (0700)", errno));
    }
}

void tightenDirectory(const fs::path& dir) noexcept
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    (void)::chmod(dir.c_str(), kPrivateDirMode);
}

std::optional<std::string> readFile(const fs::path& path)
{
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw FileError(systemError("cannot read " + path.string(), errno));
    }
    std::string content;
    std::array<char, 4096> chunk{};
    while (true) {
        const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            OPENSSL_cleanse(chunk.data(), chunk.size());
            throw FileError(systemError("cannot read " + path.string(), errno));
        }
        if (n == 0) break;
        content.append(chunk.data(), static_cast<std::size_t>(n));
    }
    OPENSSL_cleanse(chunk.data(), chunk.size());
    return content;
}

void writeFileAtomically(const fs::path& path, std::string_view content, FileAccess access)
{
    std::string temporary = path.string() + ".XXXXXX";
    // mkstemp creates the file 0600, so a secret is never readable by others, even briefly.
    FileDescriptor fd(::mkstemp(temporary.data()));
    if (fd.get() < 0) throw FileError(systemError("cannot create a file in " + path.parent_path().string(), errno));
    const auto fail = [&](const std::string& what) {
        const int error = errno;
        ::unlink(temporary.c_str());
        throw FileError(systemError(what + " " + path.string(), error));
    };
    if (::fchmod(fd.get(), modeOf(access)) != 0) fail("cannot set the mode of");
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail("cannot write");
    if (::close(fd.release()) != 0) fail("cannot write");
    if (::rename(temporary.c_str(), path.c_str()) != 0) fail("cannot replace");
}

void restrictFile(const fs::path& path, FileAccess access)
{
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;
    const mode_t mode = modeOf(access);
    if ((info.st_mode & kPermissionBits) != mode && ::chmod(path.c_str(), mode) != 0) {
        throw FileError(systemError("cannot set the mode of " + path.string(), errno));
    }
}

void syncDirectory(const fs::path& dir) noexcept
{
    const FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) (void)::fsync(fd.get());
}

AppendFile AppendFile::open(const fs::path& path, std::error_code& error)
{
    AppendFile file;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kOwnerOnlyFileMode);
    if (fd < 0) {
        error = lastError();
    } else {
        error.clear();
        file.handle_ = fd;
    }
    return file;
}

std::error_code AppendFile::append(std::string_view bytes) noexcept
{
    const int fd = static_cast<int>(handle_);
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return lastError();
        if (n == 0) return std::make_error_code(std::errc::no_space_on_device);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code AppendFile::sync() noexcept
{
    return ::fdatasync(static_cast<int>(handle_)) == 0 ? std::error_code() : lastError();
}

std::error_code AppendFile::truncate(std::uint64_t size) noexcept
{
    return ::ftruncate(static_cast<int>(handle_), static_cast<off_t>(size)) == 0 ? std::error_code() : lastError();
}

void AppendFile::close() noexcept
{
    if (handle_ != kClosed) ::close(static_cast<int>(std::exchange(handle_, kClosed)));
}

}  // namespace inkan::platform
