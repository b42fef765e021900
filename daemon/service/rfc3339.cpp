#include "daemon/service/rfc3339.hpp"

#include <cstddef>

namespace inkan::service {

namespace {

// RFC 3339 §5.6 field widths and limits.
constexpr std::size_t kDateTimeLength = 19;  // "YYYY-MM-DDTHH:MM:SS"
constexpr int kMaxHour = 23;
constexpr int kMaxMinute = 59;
constexpr int kMaxSecond = 60;  // a leap second
constexpr int kMaxOffsetHour = 23;

/// `count` ASCII digits at `text[pos]` as a number; -1 when not all digits.
int digits(std::string_view text, std::size_t pos, std::size_t count)
{
    if (pos + count > text.size()) return -1;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

bool isChar(std::string_view text, std::size_t pos, char lower, char upper)
{
    return pos < text.size() && (text[pos] == lower || text[pos] == upper);
}

}  // namespace

std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view text)
{
    using namespace std::chrono;
    if (text.size() < kDateTimeLength + 1) return std::nullopt;
    const int year = digits(text, 0, 4);
    const int month = digits(text, 5, 2);
    const int day = digits(text, 8, 2);
    const int hour = digits(text, 11, 2);
    const int minute = digits(text, 14, 2);
    const int second = digits(text, 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || !isChar(text, 10, 't', 'T') || text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    if (hour > kMaxHour || minute > kMaxMinute || second > kMaxSecond) return std::nullopt;
    const year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                              std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;

    std::size_t pos = kDateTimeLength;
    if (text[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
    }

    minutes offset{0};
    if (isChar(text, pos, 'z', 'Z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const bool east = text[pos] == '+';
        const int offsetHour = digits(text, pos + 1, 2);
        const int offsetMinute = digits(text, pos + 4, 2);
        if (offsetHour < 0 || offsetMinute < 0 || text[pos + 3] != ':' || offsetHour > kMaxOffsetHour
            || offsetMinute > kMaxMinute) {
            return std::nullopt;
        }
        offset = hours(offsetHour) + minutes(offsetMinute);
        if (!east) offset = -offset;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;

    // Local time minus its offset from UTC is UTC.
    return sys_days(date) + hours(hour) + minutes(minute) + seconds(second) - offset;
}

}  // namespace inkan::service
