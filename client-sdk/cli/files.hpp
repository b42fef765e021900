// inkan CLI — local files: reading, atomic writing, the user's directories.
//
// Every failure becomes Failure(ExitCode::LocalIo) naming the path and the
// system's reason, so commands never deal with errno themselves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace inkan::cli {

/// An owned POSIX file descriptor, closed on destruction.
class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept
    {
        if (this != &other) { reset(other.release()); }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { int fd = fd_; fd_ = -1; return fd; }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

/// The whole file; Failure(LocalIo) when it cannot be read.
std::string readFile(const std::filesystem::path& path);

/// Replaces `path` with `bytes` through a temporary file in the same directory
/// and rename(2), so a reader never sees half a file and a failure leaves the
/// old content in place.
void writeFileAtomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes, unsigned mode = 0644);
void writeFileAtomically(const std::filesystem::path& path, std::string_view text, unsigned mode = 0644);

/// Writes all of `bytes` to a descriptor, retrying short writes; false on error.
bool writeAll(int fd, std::string_view bytes) noexcept;

/// $HOME, else the password database's home directory of the current user.
std::filesystem::path homeDirectory();

/// "<strerror>" of the current errno, for messages.
std::string systemReason();

}  // namespace inkan::cli
