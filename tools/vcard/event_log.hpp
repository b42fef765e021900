// inkan-vcard — the card's event log (--log): one line per APDU or event, so
// tests can see exactly what reached the card.
//
// Format (one line each, appended and flushed at once):
//   <RFC 3339 UTC, milliseconds> <command APDU, upper-case hex> <status word, 4 hex digits>
//   <RFC 3339 UTC, milliseconds> # <event>
// e.g.  2026-01-01T09:00:00.123Z 00A4040C07F0494E4B414E01 9000
//       2026-01-01T09:00:00.456Z 0020008110<redacted:16> 63C9
//       2026-01-01T09:00:01.000Z # power-on
// The data field of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER
// (INS 20/24/2C, and their odd-INS forms 21/25/2D) is replaced by
// <redacted:N>, so no PIN or unblock digit is ever written. Response data is
// never logged, only the status word.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "tools/vcard/bytes.hpp"

namespace inkan::vcard {

enum class CardEvent { PowerOn, PowerOff, Reset, Atr, Connected, Disconnected, Removed, Inserted };

/// The event's name in the log ("power-on", "removed", ...).
std::string_view cardEventName(CardEvent event) noexcept;

/// "2026-01-01T09:00:00.123Z".
std::string rfc3339Millis(std::chrono::system_clock::time_point t);

/// The command as logged: hex, with PIN-carrying data fields redacted.
std::string redactedCommandHex(ByteView command);

/// The status word of a response ("9000"), or "----" when the response is shorter than 2 bytes.
std::string statusWordHex(ByteView response);

class EventLog {
public:
    /// A log that writes nothing (no --log given).
    EventLog() = default;
    /// Appends to `file` (created 0600). Throws std::runtime_error when it cannot be opened.
    explicit EventLog(const std::filesystem::path& file);
    ~EventLog();
    EventLog(EventLog&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    EventLog& operator=(EventLog&&) = delete;
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    void apdu(ByteView command, ByteView response);
    void event(CardEvent event);

private:
    void writeLine(const std::string& line);
    int fd_ = -1;
};

}  // namespace inkan::vcard
