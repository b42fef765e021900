// inkan — the daemon's log lines (stderr, one line per event).
//
// What may be logged is decided by the callers: requests are logged as method,
// path (no query), status and duration; never bodies, PINs, tokens or digests.
//
// Under systemd (stderr connected to the journal, JOURNAL_STREAM), each line
// goes to the journal as one structured entry instead (docs/service.md
// "Logging"): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the INKAN_* fields of
// `Fields`, so that `journalctl --user -u inkand INKAN_CODE=PIN_BLOCKED` finds
// what it should. Otherwise plain lines, as always.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::log {

enum class Level { Info, Warn, Error };

/// What a line is about, as journal fields; an empty member is left out.
/// Values are the caller's to sanitize (sanitize() for anything from the network).
struct Fields {
    std::string requestId;  // INKAN_REQUEST_ID: the X-Request-Id of an audited request (docs/audit.md)
    std::string card;       // INKAN_CARD: the card id of the request's path
    std::string origin;     // INKAN_ORIGIN: the web origin that sent the request
    std::string code;       // INKAN_CODE: the problem+json code of a refusal (docs/errors.md)
};

void info(std::string_view message, const Fields& fields = {});
void warn(std::string_view message, const Fields& fields = {});
void error(std::string_view message, const Fields& fields = {});

/// Text from the network made safe for one log line: printable ASCII only
/// (everything else becomes '?'), cut to `maxLength` characters.
std::string sanitize(std::string_view untrusted, std::size_t maxLength = 200);

/// The journal entry of one line: MESSAGE, PRIORITY (syslog(3) levels: error 3,
/// warn 4, info 6), SYSLOG_IDENTIFIER=inkand and the INKAN_* fields that are set.
std::vector<std::string> journalFields(Level level, std::string_view message, const Fields& fields);

}  // namespace inkan::log
