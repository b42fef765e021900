// inkan — where the 使用簿's records are copied besides the ledger itself
// (docs/audit.md "The system log"): the system log through syslog(3), which
// journald (or rsyslog) serves on /dev/log, so that fleet log collectors gather
// them and an editor of the ledger's files cannot rewrite history without the
// journal disagreeing; or inkand's stderr; or nowhere.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::audit {

enum class MirrorTarget { Syslog, Stderr, Off };

/// "syslog", "stderr", "off"; nullopt for anything else.
std::optional<MirrorTarget> mirrorTargetFromName(std::string_view name);

/// The ledger's mirror for `target`. Syslog: one entry per record, ident
/// "inkand", facility authpriv, priority info, message "audit <record>"; when
/// there is no system log socket (/dev/log), nothing is copied and `notice`
/// says so once. Stderr: `writeLine("audit <record>")`.
std::function<void(std::string_view)> makeMirror(MirrorTarget target, std::function<void(std::string_view)> writeLine,
                                                 std::function<void(std::string_view)> notice);

}  // namespace inkan::audit
