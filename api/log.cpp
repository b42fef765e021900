#include "api/log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace inkan::log {

namespace {

std::mutex& outputMutex()
{
    static std::mutex mutex;
    return mutex;
}

void write(std::string_view level, std::string_view message)
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);

    const std::lock_guard lock(outputMutex());
    std::fprintf(stderr, "%s %.*s %.*s\n", stamp, static_cast<int>(level.size()), level.data(),
                 static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
}

}  // namespace

void info(std::string_view message) { write("INFO", message); }
void warn(std::string_view message) { write("WARN", message); }
void error(std::string_view message) { write("ERROR", message); }

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
