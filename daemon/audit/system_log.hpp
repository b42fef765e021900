// inkan — where the 使用簿's records are copied besides the ledger itself
// (docs/audit.md "The system log"): the system journal, as entries with the
// INKAN_* fields of api/log.hpp, or, without journald, the system log through
// syslog(3) (rsyslog on /dev/log), so that fleet log collectors gather them
// and an editor of the ledger's files cannot rewrite history without the
// journal disagreeing; or inkand's stderr; or nowhere.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::audit {

enum class MirrorTarget { Syslog, Stderr, Off };

/// "syslog", "stderr", "off"; nullopt for anything else.
std::optional<MirrorTarget> mirrorTargetFromName(std::string_view name);

/// The ledger's mirror for `target`. Syslog: one entry per record, identifier
/// "inkand", facility authpriv, priority info, message "audit <record>" — to
/// the journal when it runs (with the fields of journalFieldsOfRecord), else
/// through syslog(3); when there is neither, nothing is copied and `notice`
/// says so once. Stderr: `writeLine("audit <record>")`.
std::function<void(std::string_view)> makeMirror(MirrorTarget target, std::function<void(std::string_view)> writeLine,
                                                 std::function<void(std::string_view)> notice);

/// The journal entry of one mirrored line: MESSAGE "audit <line>", PRIORITY 6,
/// SYSLOG_FACILITY 10 (authpriv), SYSLOG_IDENTIFIER inkand and, when the line
/// is a record, INKAN_REQUEST_ID, INKAN_CARD, INKAN_ORIGIN, INKAN_CODE (an
/// outcome other than "ok") and INKAN_AUDIT_OP (its "op").
std::vector<std::string> journalFieldsOfRecord(std::string_view line);

}  // namespace inkan::audit
