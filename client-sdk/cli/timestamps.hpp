// inkan CLI — the API's timestamps (RFC 3339 in UTC, "2026-03-31T14:59:59Z").
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::cli {

/// Seconds since the epoch; nullopt unless the text is exactly YYYY-MM-DDTHH:MM:SSZ.
std::optional<std::time_t> parseUtcTimestamp(std::string_view text);

/// Whole days from `now` to `until`, rounded down; negative once past.
long daysBetween(std::time_t now, std::time_t until);

/// "2026-03-31 14:59:59 UTC", or the text as given when it does not parse.
std::string readableTimestamp(std::string_view text);

/// "123 days left", "expires today", "expired 4 days ago".
std::string validityText(std::string_view notAfter, std::time_t now);

}  // namespace inkan::cli
