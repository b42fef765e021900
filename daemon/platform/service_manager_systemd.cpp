// inkan — the service manager seam (service_manager.hpp) for systemd, through
// libsystemd (sd-daemon(3), sd_journal_send(3)).
//
// The protocols are small enough to write by hand, but libsystemd is on every
// systemd machine already (libsystemd0) and carries the details that are easy
// to get subtly wrong: LISTEN_PID/LISTEN_FDNAMES checks and clearing,
// abstract-namespace notify sockets, WATCHDOG_PID, and the journal's
// binary-safe field encoding with its memfd fallback for large entries.
#include "daemon/platform/service_manager.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

namespace inkan::platform {

namespace {

void notify(const std::string& message)
{
    // unset_environment=0: later notifications (STATUS, WATCHDOG, STOPPING) use the same socket.
    (void)::sd_notify(0, message.c_str());
}

}  // namespace

std::vector<int> takeListeningSockets()
{
    const int count = ::sd_listen_fds(/*unset_environment=*/1);
    std::vector<int> sockets;
    for (int i = 0; i < count; ++i) sockets.push_back(SD_LISTEN_FDS_START + i);
    return sockets;
}

bool serviceManagerListening()
{
    const char* socket = std::getenv("NOTIFY_SOCKET");
    return socket != nullptr && *socket != '\0';
}

void notifyReady(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notifyStatus(std::string_view status) { notify("STATUS=" + std::string(status)); }

void notifyStopping() { notify("STOPPING=1\nSTATUS=stopping"); }

void notifyWatchdog() { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdogInterval()
{
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

bool stderrIsJournal()
{
    // systemd.exec(5) "JOURNAL_STREAM": "<device>:<inode>" of the stream
    // connected to stdout/stderr; compare, since stderr may have been redirected since.
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    struct stat info{};
    if (::fstat(STDERR_FILENO, &info) != 0) return false;
    const std::string expected = std::to_string(static_cast<unsigned long long>(info.st_dev)) + ":" +
                                 std::to_string(static_cast<unsigned long long>(info.st_ino));
    return expected == stream;
}

bool journalAvailable()
{
    // Where sd_journal_sendv(3) sends (journald's native socket).
    struct stat info{};
    return ::stat("/run/systemd/journal/socket", &info) == 0 && S_ISSOCK(info.st_mode);
}

bool sendToJournal(const std::vector<std::string>& fields)
{
    std::vector<iovec> parts;
    parts.reserve(fields.size());
    for (const auto& field : fields) {
        parts.push_back(iovec{const_cast<char*>(field.data()), field.size()});
    }
    return ::sd_journal_sendv(parts.data(), static_cast<int>(parts.size())) == 0;
}

}  // namespace inkan::platform
