// inkan CLI — local files: reading, atomic writing, the user's directories.
//
// Every failure becomes Failure(ExitCode::LocalIo) naming the path and the
// system's reason, so commands never deal with errno themselves.
// files_posix.cpp implements it for POSIX systems.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "daemon/file_descriptor.hpp"

namespace inkan::cli {

/// An owned POSIX file descriptor (shared with the daemon).
using FileDescriptor = inkan::FileDescriptor;

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
