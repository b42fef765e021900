// inkan — files that must stay the user's own: the state directory (token,
// TLS key), the pairings, the key files, the usage ledger.
//
// The seam for the platform: callers say who may read a file (FileAccess),
// never a mode. filesystem_posix.cpp implements it with modes (0700
// directories, 0600 or 0644 files), mkstemp + rename for atomic writes and
// O_APPEND + fdatasync for the ledger; a Windows build adds its own file (a
// DACL for the user alone, ReplaceFileW; docs/windows.md "Where the code
// changes").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace inkan::platform {

/// A file or directory inkand cannot use; the message names the path and the reason.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Who may read a file inkand writes.
enum class FileAccess {
    OwnerOnly,      // secrets and private records (POSIX 0600)
    EveryoneReads,  // what others may see, e.g. the CA certificate (POSIX 0644)
};

/// Creates `dir` and its parents, accessible to this user only, and tightens
/// an existing one. Refuses one that is not a directory or belongs to another
/// user. Throws FileError.
void makePrivateDirectory(const std::filesystem::path& dir);

/// Like makePrivateDirectory, without the checks: for a directory whose
/// failure to tighten is not fatal (the caller goes on). Never throws.
void tightenDirectory(const std::filesystem::path& dir) noexcept;

/// A small file's content; nullopt when it does not exist. Symbolic links are
/// not followed; the read buffer is wiped. Throws FileError.
std::optional<std::string> readFile(const std::filesystem::path& path);

/// Replaces `path` with `content` through a temporary file in the same
/// directory (owner-only from its creation) and a rename, so a crash leaves
/// the old file or the new one, never half of one. Throws FileError.
void writeFileAtomically(const std::filesystem::path& path, std::string_view content, FileAccess access);

/// Sets an existing file's access; nothing when it does not exist. Throws FileError.
void restrictFile(const std::filesystem::path& path, FileAccess access);

/// Makes a directory's entries (a new or renamed file) durable. Best effort.
void syncDirectory(const std::filesystem::path& dir) noexcept;

/// A file written only at its end, owner-only (the usage ledger's segments).
/// Failures are returned as std::error_code: the caller decides what they mean.
class AppendFile {
public:
    AppendFile() = default;
    ~AppendFile() { close(); }
    AppendFile(AppendFile&& other) noexcept : handle_(std::exchange(other.handle_, kClosed)) {}
    AppendFile& operator=(AppendFile&& other) noexcept
    {
        if (this != &other) {
            close();
            handle_ = std::exchange(other.handle_, kClosed);
        }
        return *this;
    }
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    /// Opens `path` for appending, creating it owner-only.
    static AppendFile open(const std::filesystem::path& path, std::error_code& error);

    bool isOpen() const noexcept { return handle_ != kClosed; }
    /// Writes all of `bytes` at the end (a full disk is std::errc::no_space_on_device).
    std::error_code append(std::string_view bytes) noexcept;
    /// The data written so far is on the disk.
    std::error_code sync() noexcept;
    /// Cuts the file to `size` bytes.
    std::error_code truncate(std::uint64_t size) noexcept;
    void close() noexcept;

private:
    static constexpr std::intptr_t kClosed = -1;
    std::intptr_t handle_ = kClosed;  // a descriptor on POSIX, a HANDLE on Windows
};

}  // namespace inkan::platform
