#include "daemon/audit/system_log.hpp"

#include <syslog.h>
#include <sys/stat.h>

#include <string>

#include <nlohmann/json.hpp>

#include "daemon/platform/service_manager.hpp"

namespace inkan::audit {

namespace {

constexpr const char* kIdent = "inkand";
constexpr const char* kSystemLogSocket = "/dev/log";  // where syslog(3) sends, journald's or rsyslog's
constexpr std::string_view kPrefix = "audit ";
constexpr int kPriorityInfo = 6;       // LOG_INFO
constexpr int kFacilityAuthpriv = 10;  // LOG_AUTHPRIV >> 3, as the journal's SYSLOG_FACILITY counts

/// A string member of a JSON object, or "".
std::string member(const nlohmann::json& object, const char* name)
{
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool systemLogPresent()
{
    struct stat info{};
    return ::stat(kSystemLogSocket, &info) == 0 && S_ISSOCK(info.st_mode);
}

}  // namespace

std::optional<MirrorTarget> mirrorTargetFromName(std::string_view name)
{
    if (name == "syslog") return MirrorTarget::Syslog;
    if (name == "stderr") return MirrorTarget::Stderr;
    if (name == "off") return MirrorTarget::Off;
    return std::nullopt;
}

std::function<void(std::string_view)> makeMirror(MirrorTarget target, std::function<void(std::string_view)> writeLine,
                                                 std::function<void(std::string_view)> notice)
{
    switch (target) {
    case MirrorTarget::Off:
        return {};
    case MirrorTarget::Stderr:
        return [writeLine = std::move(writeLine)](std::string_view line) { writeLine(std::string(kPrefix) + std::string(line)); };
    case MirrorTarget::Syslog:
        if (platform::journalAvailable()) {
            // Syslog as the fallback should the journal go away while inkand runs.
            const bool syslogToo = systemLogPresent();
            if (syslogToo) ::openlog(kIdent, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
            return [syslogToo](std::string_view line) {
                if (platform::sendToJournal(journalFieldsOfRecord(line)) || !syslogToo) return;
                ::syslog(LOG_AUTHPRIV | LOG_INFO, "%s", (std::string(kPrefix) + std::string(line)).c_str());
            };
        }
        if (!systemLogPresent()) {
            if (notice) notice("no system log (journal or /dev/log): the usage ledger is not copied to it (config audit.mirror)");
            return {};
        }
        ::openlog(kIdent, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
        return [](std::string_view line) {
            const std::string message = std::string(kPrefix) + std::string(line);
            ::syslog(LOG_AUTHPRIV | LOG_INFO, "%s", message.c_str());
        };
    }
    return {};
}

std::vector<std::string> journalFieldsOfRecord(std::string_view line)
{
    std::vector<std::string> entry{
        "MESSAGE=" + std::string(kPrefix) + std::string(line),
        "PRIORITY=" + std::to_string(kPriorityInfo),
        "SYSLOG_FACILITY=" + std::to_string(kFacilityAuthpriv),
        "SYSLOG_IDENTIFIER=" + std::string(kIdent),
    };
    // Notices about the ledger itself ("segment ... starts ...") are not records.
    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) return entry;
    const auto add = [&entry](std::string_view name, const std::string& value) {
        if (!value.empty()) entry.push_back(std::string(name) + "=" + value);
    };
    add("INKAN_REQUEST_ID", member(record, "requestId"));
    if (const auto credential = record.find("credential"); credential != record.end() && credential->is_object()) {
        add("INKAN_CARD", member(*credential, "cardId"));
    }
    if (const auto who = record.find("who"); who != record.end() && who->is_object()) add("INKAN_ORIGIN", member(*who, "origin"));
    if (const std::string outcome = member(record, "outcome"); outcome != "ok") add("INKAN_CODE", outcome);
    add("INKAN_AUDIT_OP", member(record, "op"));
    return entry;
}

}  // namespace inkan::audit
