// inkan-vcard — the card's event log.
#include "tools/vcard/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace inkan::vcard {

namespace {

// Instructions whose data field carries PIN or unblock-code digits (reference
// card spec "PINs"; ISO 7816-4 odd INS variants included for safety).
constexpr std::uint8_t kPinCarryingInstructions[] = {0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D};
// Bytes shown before redaction: CLA INS P1 P2 and P3 (Lc).
constexpr std::size_t kShownPrefix = 5;

bool carriesPin(std::uint8_t ins)
{
    for (const auto i : kPinCarryingInstructions)
        if (i == ins) return true;
    return false;
}

}  // namespace

std::string_view cardEventName(CardEvent event) noexcept
{
    switch (event) {
    case CardEvent::PowerOn: return "power-on";
    case CardEvent::PowerOff: return "power-off";
    case CardEvent::Reset: return "reset";
    case CardEvent::Atr: return "atr";
    case CardEvent::Connected: return "connected";
    case CardEvent::Disconnected: return "disconnected";
    case CardEvent::Removed: return "removed";
    case CardEvent::Inserted: return "inserted";
    }
    return "unknown";
}

std::string rfc3339Millis(std::chrono::system_clock::time_point t)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    const int millis = static_cast<int>(ms - static_cast<long long>(seconds) * 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

std::string redactedCommandHex(ByteView command)
{
    if (command.size() > 1 && carriesPin(command[1]) && command.size() > kShownPrefix) {
        return toHex(command.first(kShownPrefix)) + "<redacted:" + std::to_string(command.size() - kShownPrefix) +
               ">";
    }
    return toHex(command);
}

std::string statusWordHex(ByteView response)
{
    if (response.size() < 2) return "----";
    return toHex(response.last(2));
}

EventLog::EventLog(const std::filesystem::path& file)
    : fd_(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600))
{
    if (fd_ < 0) throw std::runtime_error("cannot open log " + file.string() + ": " + std::strerror(errno));
}

EventLog::~EventLog()
{
    if (fd_ >= 0) ::close(fd_);
}

void EventLog::apdu(ByteView command, ByteView response)
{
    if (fd_ < 0) return;
    writeLine(rfc3339Millis(std::chrono::system_clock::now()) + " " + redactedCommandHex(command) + " " +
              statusWordHex(response) + "\n");
}

void EventLog::event(CardEvent e)
{
    if (fd_ < 0) return;
    writeLine(rfc3339Millis(std::chrono::system_clock::now()) + " # " + std::string(cardEventName(e)) + "\n");
}

void EventLog::writeLine(const std::string& line)
{
    // One write() per line on an O_APPEND descriptor: readers never see a torn
    // line, and nothing sits in a user-space buffer.
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a full disk must not stop the card
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace inkan::vcard
