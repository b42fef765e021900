// inkan — RFC 3339 timestamps as callers write them ("2026-04-01T09:00:00+09:00").
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace inkan::service {

/// Parses an RFC 3339 date-time (§5.6): "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)",
/// 'T' and 'Z' in either case. Fractions are dropped (certificate times have
/// whole seconds); a leap second (":60") counts as the next second. nullopt
/// for anything else, including impossible dates (2026-02-30) and a missing
/// offset (a time without one names no instant).
std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view text);

}  // namespace inkan::service
