#include "daemon/security/pinentry.hpp"

#include <system_error>
#include <utility>

#include <gpg-error.h>
#include <openssl/crypto.h>

#include "daemon/error.hpp"
#include "daemon/platform/child_process.hpp"
#include "daemon/security/assuan.hpp"

namespace inkan::security {

namespace {

using Clock = std::chrono::steady_clock;
using assuan::Reply;

// pinentry enforces the user's timeout itself (SETTIMEOUT); inkand gives it
// this much longer before it ends the program on its own.
constexpr auto kTimeoutGrace = std::chrono::seconds(5);
// A pinentry that has not greeted and taken the dialog's texts by then is not working.
constexpr auto kSetupLimit = std::chrono::seconds(15);
// After BYE, how long the program may take to exit before it is killed.
constexpr auto kExitWait = std::chrono::milliseconds(500);

// pinentry commands (pinentry.texi, "Protocol").
constexpr std::string_view kSetTimeout = "SETTIMEOUT";
constexpr std::string_view kSetTitle = "SETTITLE";
constexpr std::string_view kSetDescription = "SETDESC";
constexpr std::string_view kSetPrompt = "SETPROMPT";
constexpr std::string_view kSetOk = "SETOK";
constexpr std::string_view kSetNotOk = "SETNOTOK";
constexpr std::string_view kSetCancel = "SETCANCEL";
constexpr std::string_view kSetError = "SETERROR";
constexpr std::string_view kSetRepeat = "SETREPEAT";
constexpr std::string_view kSetRepeatError = "SETREPEATERROR";
constexpr std::string_view kGetPin = "GETPIN";
constexpr std::string_view kConfirm = "CONFIRM";

Error unavailable(const std::string& why)
{
    return Error(ErrorCode::PinEntryUnavailable, "inkand's PIN dialog could not be shown: " + why);
}

std::unique_ptr<platform::ChildProcess> start(const std::filesystem::path& program)
{
    try {
        return platform::startChildProcess(program);
    } catch (const std::system_error& e) {
        throw unavailable("cannot start " + program.string() + ": " + e.code().message());
    }
}

/// One pinentry run: the program and the Assuan conversation with it, which
/// starts with the program's greeting. The conversation ends (BYE) before
/// the program is stopped.
class Session {
public:
    Session(const std::filesystem::path& program, const Abandoned& abandoned, Clock::time_point greetingDeadline)
        : child_(start(program)), connection_(std::make_unique<assuan::Connection>(child_->channel(), abandoned, greetingDeadline))
    {
    }

    ~Session()
    {
        connection_.reset();
        child_->stop(kExitWait);
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Reply call(std::string_view verb, std::string_view argument, Clock::time_point deadline)
    {
        return connection_->transact(verb, argument, deadline);
    }

    /// A setter whose failure only costs a nicety (older pinentries lack some).
    void optionalSet(std::string_view verb, std::string_view text, Clock::time_point deadline)
    {
        if (!text.empty()) (void)call(verb, text, deadline);
    }

    /// A setter the dialog cannot do without.
    void requiredSet(std::string_view verb, std::string_view text, Clock::time_point deadline)
    {
        if (!call(verb, text, deadline).ok) throw unavailable("the program refused " + std::string(verb));
    }

private:
    std::unique_ptr<platform::ChildProcess> child_;
    std::unique_ptr<assuan::Connection> connection_;
};

/// The inkan::Error for a dialog that ended in ERR.
Error dialogError(std::uint32_t code)
{
    switch (code) {
    case GPG_ERR_CANCELED:
    case GPG_ERR_FULLY_CANCELED:
    case GPG_ERR_ASS_CANCELED:
    case GPG_ERR_NOT_CONFIRMED: return Error(ErrorCode::PinCancelled, "the PIN entry was cancelled in inkand's dialog");
    case GPG_ERR_TIMEOUT: return Error(ErrorCode::PinEntryTimeout, "nobody answered inkand's PIN dialog in time");
    default: return unavailable("the program answered error " + std::to_string(code));
    }
}

bool sameSecret(const Secret& a, const Secret& b) noexcept
{
    return a.size() == b.size() && CRYPTO_memcmp(a.view().data(), b.view().data(), a.size()) == 0;
}

}  // namespace

namespace {

// What every dialog starts with: the greeting, then its timeout, title and
// description (the description is what the user must see, so it is required).
void introduce(Session& session, std::chrono::seconds timeout, const std::string& title, const std::string& description,
               Clock::time_point deadline)
{
    session.optionalSet(kSetTimeout, std::to_string(timeout.count()), deadline);
    session.optionalSet(kSetTitle, title, deadline);
    session.requiredSet(kSetDescription, description, deadline);
}

}  // namespace

Pinentry::Pinentry(Options options) : options_(std::move(options)) {}

bool Pinentry::available() const
{
    return platform::isExecutable(options_.program);
}

Secret Pinentry::getPin(const PinPrompt& prompt, const Abandoned& abandoned) const
{
    if (!available()) throw unavailable("no pinentry program at " + options_.program.string());
    const auto setupDeadline = Clock::now() + kSetupLimit;
    Session session(options_.program, abandoned, setupDeadline);
    introduce(session, options_.timeout, prompt.title, prompt.description, setupDeadline);
    session.optionalSet(kSetPrompt, prompt.prompt, setupDeadline);
    session.optionalSet(kSetOk, prompt.okLabel, setupDeadline);
    session.optionalSet(kSetError, prompt.errorText, setupDeadline);
    bool repeatsItself = false;
    if (prompt.repeatPrompt) {
        repeatsItself = session.call(kSetRepeat, *prompt.repeatPrompt, setupDeadline).ok;
        if (repeatsItself) session.optionalSet(kSetRepeatError, prompt.repeatMismatch, setupDeadline);
    }

    const auto answerDeadline = Clock::now() + options_.timeout + kTimeoutGrace;
    Reply first = session.call(kGetPin, {}, answerDeadline);
    if (!first.ok) throw dialogError(first.errorCode);
    if (!first.data || first.data->empty()) throw Error(ErrorCode::PinCancelled, "no PIN was entered in inkand's dialog");
    if (prompt.repeatPrompt && !repeatsItself) {
        // This pinentry cannot ask twice itself: ask again, as a second dialog.
        session.optionalSet(kSetPrompt, *prompt.repeatPrompt, answerDeadline);
        Reply second = session.call(kGetPin, {}, answerDeadline);
        if (!second.ok) throw dialogError(second.errorCode);
        if (!second.data || !sameSecret(*first.data, *second.data)) {
            // As a PIN pad reports it (6402): nothing reached the card, ask again.
            throw Error(ErrorCode::PinFormat, "the new PIN was entered differently the second time (no try was spent)");
        }
    }
    return std::move(*first.data);
}

ConfirmAnswer Pinentry::confirm(const ConfirmPrompt& prompt, const Abandoned& abandoned) const
{
    if (!available()) throw unavailable("no pinentry program at " + options_.program.string());
    const auto setupDeadline = Clock::now() + kSetupLimit;
    Session session(options_.program, abandoned, setupDeadline);
    introduce(session, options_.timeout, prompt.title, prompt.description, setupDeadline);
    session.optionalSet(kSetOk, prompt.okLabel, setupDeadline);
    // Without its "not OK" button the dialog cannot tell a no from a dismissal.
    session.requiredSet(kSetNotOk, prompt.notOkLabel, setupDeadline);
    session.optionalSet(kSetCancel, prompt.cancelLabel, setupDeadline);

    const Reply reply = session.call(kConfirm, {}, Clock::now() + options_.timeout + kTimeoutGrace);
    if (reply.ok) return ConfirmAnswer::Yes;
    if (reply.errorCode == GPG_ERR_NOT_CONFIRMED) return ConfirmAnswer::No;
    const Error error = dialogError(reply.errorCode);
    if (error.code() == ErrorCode::PinCancelled) return ConfirmAnswer::Dismissed;
    throw error;
}

}  // namespace inkan::security
