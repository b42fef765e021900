// inkan — the daemon's log lines (stderr, one line per event).
//
// What may be logged is decided by the callers: requests are logged as method,
// path (no query), status and duration; never bodies, PINs, tokens or digests.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace inkan::log {

void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

/// Text from the network made safe for one log line: printable ASCII only
/// (everything else becomes '?'), cut to `maxLength` characters.
std::string sanitize(std::string_view untrusted, std::size_t maxLength = 200);

}  // namespace inkan::log
