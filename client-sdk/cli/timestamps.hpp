// inkan CLI — the API's timestamps (RFC 3339 in UTC, "2026-03-31T14:59:59Z").
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::cli {

/// Seconds since the epoch of an RFC 3339 date-time with its offset (inkand's own
/// parser, daemon/service/rfc3339.hpp); nullopt for anything else.
std::optional<std::time_t> parseUtcTimestamp(std::string_view text);

/// Whole days from `now` to `until`, rounded down; negative once past.
long daysBetween(std::time_t now, std::time_t until);

/// "2026-03-31 14:59:59 UTC" (in UTC whatever the offset given), or the text as
/// given when it does not parse.
std::string readableTimestamp(std::string_view text);

/// "123 days left", "expires today", "expired 4 days ago".
std::string validityText(std::string_view notAfter, std::time_t now);

}  // namespace inkan::cli
