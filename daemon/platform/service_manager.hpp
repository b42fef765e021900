// inkan — what inkand says to, and takes from, the service manager that runs
// it (docs/service.md): listening sockets handed over at start (socket
// activation), readiness and status, the watchdog, and the structured system
// journal. This header is the seam for the platform and knows no socket or
// service library: service_manager_systemd.cpp implements it with libsystemd;
// a Windows build adds a file answering through the Service Control Manager
// (docs/windows.md). Outside a service manager every call is a cheap no-op.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::platform {

/// The listening sockets the service manager passed (systemd: LISTEN_FDS for
/// this process, LISTEN_PID), as native descriptors in the order given; empty
/// when none were. Takes them: the variables are removed from the environment
/// so that a child process (pinentry) does not think they are its own.
/// Call once, before any other descriptor is opened.
std::vector<int> takeListeningSockets();

/// Whether a service manager listens to notifications (systemd: NOTIFY_SOCKET).
bool serviceManagerListening();

/// Serving now; `status` is shown by the service manager (`systemctl status`).
void notifyReady(std::string_view status);
/// A new one-line status (e.g. how many cards are present).
void notifyStatus(std::string_view status);
/// Shutting down: the service manager waits for the exit, it does not kill.
void notifyStopping();
/// "Still alive": from the loop that serves requests, so that a hung loop
/// stops the pings and the service manager restarts the daemon.
void notifyWatchdog();

/// How often the service manager expects a watchdog ping (systemd:
/// WATCHDOG_USEC for this process), when it expects any.
std::optional<std::chrono::microseconds> watchdogInterval();

/// Whether stderr is connected to the system journal (systemd: JOURNAL_STREAM
/// names stderr's device and inode), so that log lines may go to the journal
/// as structured entries instead.
bool stderrIsJournal();

/// Whether the system journal takes entries (systemd: its socket exists).
bool journalAvailable();

/// Send one entry to the system journal: "KEY=value" fields, MESSAGE and
/// PRIORITY among them. False when it could not be sent (the caller writes
/// the plain line instead).
bool sendToJournal(const std::vector<std::string>& fields);

}  // namespace inkan::platform
