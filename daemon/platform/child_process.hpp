// inkan — a helper program inkand starts and talks to over its standard input
// and output (the pinentry dialogs: daemon/security/pinentry.*).
//
// The seam for the platform: callers see a started program and one two-way
// channel to it, with a bounded wait for input, and never a process id, a file
// descriptor or a signal. child_process_posix.cpp implements it with
// posix_spawn and a socket pair; a Windows build adds its own file
// (CreateProcessW with pipes; docs/windows.md "Where the code changes").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <system_error>

namespace inkan::platform {

/// inkand's end of the channel to a child program. Reads and writes are
/// plain (blocking) calls; waitReadable() bounds how long a read may block.
class Channel {
public:
    virtual ~Channel() = default;

    /// Waits at most `wait` until a read would not block (data, or the
    /// program's end). False when the time passed; throws std::system_error.
    virtual bool waitReadable(std::chrono::milliseconds wait) = 0;

    /// Reads what is there, at most `size` bytes: 0 once the program closed
    /// its end. Failures set `error` and return -1; an interrupted read is
    /// std::errc::interrupted (try again).
    virtual std::ptrdiff_t read(void* buffer, std::size_t size, std::error_code& error) = 0;

    /// Writes some of `buffer` (as read()); a program that is gone is an
    /// error, never a signal to inkand.
    virtual std::ptrdiff_t write(const void* buffer, std::size_t size, std::error_code& error) = 0;

    /// The channel as the operating system names it (a socket descriptor on
    /// POSIX, a HANDLE on Windows), for libraries that want one.
    virtual std::intptr_t nativeHandle() const noexcept = 0;
};

/// A started program. Its standard input and output are the other end of
/// channel(), its standard error goes nowhere, and nothing else of inkand
/// (sockets, key files) is inherited. Destruction stops it (stop()).
class ChildProcess {
public:
    virtual ~ChildProcess() = default;

    virtual Channel& channel() noexcept = 0;

    /// Gives the program `grace` to exit by itself (after its channel said
    /// goodbye), then ends it forcibly; reaps it either way. Idempotent.
    virtual void stop(std::chrono::milliseconds grace) noexcept = 0;
};

/// Starts `program` without arguments, in inkand's environment. Throws
/// std::system_error when it cannot be started.
std::unique_ptr<ChildProcess> startChildProcess(const std::filesystem::path& program);

/// Whether `program` exists and this user may run it.
bool isExecutable(const std::filesystem::path& program);

}  // namespace inkan::platform
