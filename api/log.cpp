#include "api/log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "daemon/platform/service_manager.hpp"

namespace inkan::log {

namespace {

// syslog(3) priorities, as the journal's PRIORITY field takes them.
constexpr int kPriorityError = 3;    // LOG_ERR
constexpr int kPriorityWarning = 4;  // LOG_WARNING
constexpr int kPriorityInfo = 6;     // LOG_INFO
constexpr std::string_view kIdentifier = "inkand";

std::mutex& outputMutex()
{
    static std::mutex mutex;
    return mutex;
}

/// Decided once: stderr may be redirected later, but not by inkand.
bool toJournal()
{
    static const bool journal = platform::stderrIsJournal();
    return journal;
}

std::string_view levelName(Level level)
{
    switch (level) {
    case Level::Error: return "ERROR";
    case Level::Warn: return "WARN";
    case Level::Info: break;
    }
    return "INFO";
}

int priority(Level level)
{
    switch (level) {
    case Level::Error: return kPriorityError;
    case Level::Warn: return kPriorityWarning;
    case Level::Info: break;
    }
    return kPriorityInfo;
}

void writeLine(Level level, std::string_view message)
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);

    const std::string_view name = levelName(level);
    const std::lock_guard lock(outputMutex());
    std::fprintf(stderr, "%s %.*s %.*s\n", stamp, static_cast<int>(name.size()), name.data(),
                 static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
}

void write(Level level, std::string_view message, const Fields& fields)
{
    // The journal stamps, orders and levels entries itself.
    if (toJournal() && platform::sendToJournal(journalFields(level, message, fields))) return;
    writeLine(level, message);
}

}  // namespace

void info(std::string_view message, const Fields& fields) { write(Level::Info, message, fields); }
void warn(std::string_view message, const Fields& fields) { write(Level::Warn, message, fields); }
void error(std::string_view message, const Fields& fields) { write(Level::Error, message, fields); }

std::vector<std::string> journalFields(Level level, std::string_view message, const Fields& fields)
{
    std::vector<std::string> entry{
        "MESSAGE=" + std::string(message),
        "PRIORITY=" + std::to_string(priority(level)),
        "SYSLOG_IDENTIFIER=" + std::string(kIdentifier),
    };
    const auto add = [&entry](std::string_view name, const std::string& value) {
        if (!value.empty()) entry.push_back(std::string(name) + "=" + value);
    };
    add("INKAN_REQUEST_ID", fields.requestId);
    add("INKAN_CARD", fields.card);
    add("INKAN_ORIGIN", fields.origin);
    add("INKAN_CODE", fields.code);
    return entry;
}

std::string sanitize(std::string_view untrusted, std::size_t maxLength)
{
    std::string safe;
    safe.reserve(std::min(untrusted.size(), maxLength));
    for (char c : untrusted.substr(0, maxLength)) {
        const auto byte = static_cast<unsigned char>(c);
        safe += (byte > 0x20 && byte < 0x7F) ? c : '?';
    }
    if (untrusted.size() > maxLength) safe += "...";
    return safe;
}

}  // namespace inkan::log
