#include "daemon/audit/system_log.hpp"

#include <syslog.h>
#include <sys/stat.h>

#include <string>

namespace inkan::audit {

namespace {

constexpr const char* kIdent = "inkand";
constexpr const char* kSystemLogSocket = "/dev/log";  // where syslog(3) sends, journald's or rsyslog's
constexpr std::string_view kPrefix = "audit ";

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
        if (!systemLogPresent()) {
            if (notice) notice("no system log (/dev/log): the usage ledger is not copied to it (config audit.mirror)");
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

}  // namespace inkan::audit
