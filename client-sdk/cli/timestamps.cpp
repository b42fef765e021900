#include "client-sdk/cli/timestamps.hpp"

#include <cmath>
#include <cstdio>

namespace inkan::cli {
namespace {

constexpr long kSecondsPerDay = 24 * 60 * 60;

bool digitsAt(std::string_view text, std::size_t at, std::size_t count, int& value)
{
    value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        value = value * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<std::time_t> parseUtcTimestamp(std::string_view text)
{
    // 0123456789012345678 9
    // YYYY-MM-DDTHH:MM:SS Z
    if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
        || text[19] != 'Z') {
        return std::nullopt;
    }
    int year, month, day, hour, minute, second;
    if (!digitsAt(text, 0, 4, year) || !digitsAt(text, 5, 2, month) || !digitsAt(text, 8, 2, day) || !digitsAt(text, 11, 2, hour)
        || !digitsAt(text, 14, 2, minute) || !digitsAt(text, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::tm fields{};
    fields.tm_year = year - 1900;
    fields.tm_mon = month - 1;
    fields.tm_mday = day;
    fields.tm_hour = hour;
    fields.tm_min = minute;
    fields.tm_sec = second;
    return ::timegm(&fields);
}

long daysBetween(std::time_t now, std::time_t until)
{
    return static_cast<long>(std::floor(std::difftime(until, now) / kSecondsPerDay));
}

std::string readableTimestamp(std::string_view text)
{
    if (!parseUtcTimestamp(text)) return std::string(text);
    return std::string(text.substr(0, 10)) + " " + std::string(text.substr(11, 8)) + " UTC";
}

std::string validityText(std::string_view notAfter, std::time_t now)
{
    auto until = parseUtcTimestamp(notAfter);
    if (!until) return "?";
    if (*until < now) {
        long ago = daysBetween(*until, now);
        return ago == 0 ? "expired today" : "expired " + std::to_string(ago) + (ago == 1 ? " day ago" : " days ago");
    }
    long left = daysBetween(now, *until);
    return left == 0 ? "expires today" : std::to_string(left) + (left == 1 ? " day left" : " days left");
}

}  // namespace inkan::cli
