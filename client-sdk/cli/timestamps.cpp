#include "client-sdk/cli/timestamps.hpp"

#include <cmath>
#include <cstdio>

#include "daemon/service/rfc3339.hpp"

namespace inkan::cli {
namespace {

constexpr long kSecondsPerDay = 24 * 60 * 60;

}  // namespace

std::optional<std::time_t> parseUtcTimestamp(std::string_view text)
{
    // One RFC 3339 parser for inkand and the CLI (daemon/service/rfc3339.hpp).
    const auto parsed = service::parseRfc3339(text);
    if (!parsed) return std::nullopt;
    return static_cast<std::time_t>(parsed->time_since_epoch().count());
}

long daysBetween(std::time_t now, std::time_t until)
{
    return static_cast<long>(std::floor(std::difftime(until, now) / kSecondsPerDay));
}

std::string readableTimestamp(std::string_view text)
{
    const auto seconds = parseUtcTimestamp(text);
    std::tm fields{};
    if (!seconds || !::gmtime_r(&*seconds, &fields)) return std::string(text);
    char buffer[32];
    const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &fields);
    return length ? std::string(buffer, length) : std::string(text);
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
