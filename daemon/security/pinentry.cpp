#include "daemon/security/pinentry.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon/error.hpp"
#include "daemon/file_descriptor.hpp"
#include "daemon/security/assuan.hpp"

extern char** environ;

namespace inkan::security {

namespace {

using Clock = std::chrono::steady_clock;

// How often a waiting dialog checks whether it was abandoned.
constexpr auto kPollSlice = std::chrono::milliseconds(250);
// pinentry enforces the user's timeout itself (SETTIMEOUT); inkand gives it
// this much longer before it ends the program on its own.
constexpr auto kTimeoutGrace = std::chrono::seconds(5);
// A pinentry that has not greeted and taken the dialog's texts by then is not working.
constexpr auto kSetupLimit = std::chrono::seconds(15);
// After BYE, how long the program may take to exit before it is killed.
constexpr auto kExitWait = std::chrono::milliseconds(500);
constexpr auto kExitPoll = std::chrono::milliseconds(20);

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
constexpr std::string_view kBye = "BYE";

Error unavailable(const std::string& why)
{
    return Error(ErrorCode::PinEntryUnavailable, "inkand's PIN dialog could not be shown: " + why);
}

/// posix_spawn file actions, destroyed on scope exit.
class SpawnActions {
public:
    SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() noexcept { return &actions_; }

private:
    posix_spawn_file_actions_t actions_{};
};

/// The pinentry process: started with the socket as stdin and stdout and
/// nothing else inherited; killed and reaped however the dialog ends.
class Child {
public:
    Child(const std::filesystem::path& program, int socket)
    {
        SpawnActions actions;
        if (::posix_spawn_file_actions_adddup2(actions.get(), socket, STDIN_FILENO) != 0 ||
            ::posix_spawn_file_actions_adddup2(actions.get(), socket, STDOUT_FILENO) != 0 ||
            ::posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
            // Nothing else of inkand (sockets, the TLS key file) reaches the program.
            ::posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1) != 0) {
            throw unavailable("cannot prepare the program's start");
        }
        const std::string path = program.string();
        char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
        const int result = ::posix_spawn(&pid_, path.c_str(), actions.get(), nullptr, argv, environ);
        if (result != 0) {
            pid_ = -1;
            throw unavailable("cannot start " + path + ": " + std::strerror(result));
        }
    }

    ~Child() { stop(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    /// Waits briefly for the program to exit, then kills it; reaps it either way.
    void stop() noexcept
    {
        if (pid_ <= 0) return;
        const auto deadline = Clock::now() + kExitWait;
        while (Clock::now() < deadline) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(kExitPoll);
        }
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

/// What a command ended with.
struct Reply {
    bool ok = false;
    std::uint32_t errorCode = 0;  // the gpg-error code part, when !ok
    std::optional<Secret> data;   // the D line, if any
};

/// One pinentry run: the process and the Assuan conversation with it.
class Session {
public:
    Session(const std::filesystem::path& program, const Abandoned& abandoned) : abandoned_(abandoned)
    {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            throw unavailable(std::string("cannot create a socket pair: ") + std::strerror(errno));
        }
        ours_ = std::make_unique<FileDescriptor>(pair[0]);
        FileDescriptor theirs(pair[1]);
        child_ = std::make_unique<Child>(program, theirs.get());
        // `theirs` is closed here: only the child holds that end now, so its
        // exit reads as end of file.
    }

    ~Session()
    {
        // Best effort: a polite end lets the program restore the terminal.
        if (ours_) {
            const std::string bye = std::string(kBye) + "\n";
            (void)::send(ours_->get(), bye.data(), bye.size(), MSG_NOSIGNAL);
        }
        if (child_) child_->stop();
        OPENSSL_cleanse(pending_.data(), pending_.size());
        OPENSSL_cleanse(line_.data(), line_.size());
    }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void expectGreeting(Clock::time_point deadline)
    {
        const Reply reply = finish(deadline);
        if (!reply.ok) throw unavailable("the program did not greet");
    }

    Reply call(std::string_view verb, std::string_view argument, Clock::time_point deadline)
    {
        const std::string line = assuan::command(verb, argument) + "\n";
        std::size_t sent = 0;
        while (sent < line.size()) {
            const ssize_t n = ::send(ours_->get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw unavailable("the program stopped listening");
            }
            sent += static_cast<std::size_t>(n);
        }
        return finish(deadline);
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
    /// Reads responses up to the final OK or ERR.
    Reply finish(Clock::time_point deadline)
    {
        Reply reply;
        while (true) {
            const std::string_view line = nextLine(deadline);
            const assuan::Response response = assuan::parseResponse(line);
            switch (response.kind) {
            case assuan::Response::Kind::Ok: reply.ok = true; return reply;
            case assuan::Response::Kind::Error: reply.errorCode = assuan::errorCodeOf(response.errorCode); return reply;
            case assuan::Response::Kind::Data:
                // One D line carries a PIN; more would be a protocol we do not speak.
                if (reply.data) throw unavailable("unexpected data from the program");
                reply.data = assuan::decodeData(response.rest);
                if (!reply.data) throw unavailable("malformed data from the program");
                break;
            case assuan::Response::Kind::Status:
            case assuan::Response::Kind::Comment: break;
            case assuan::Response::Kind::Inquire:
            case assuan::Response::Kind::Malformed: throw unavailable("the program does not speak pinentry's protocol");
            }
        }
    }

    /// The next line without its LF; valid until the next call.
    std::string_view nextLine(Clock::time_point deadline)
    {
        while (true) {
            const auto end = std::find(pending_.begin(), pending_.begin() + pendingLength_, '\n');
            if (end != pending_.begin() + pendingLength_) {
                const auto length = static_cast<std::size_t>(end - pending_.begin());
                std::copy(pending_.begin(), end, line_.begin());
                const std::size_t consumed = length + 1;
                std::memmove(pending_.data(), pending_.data() + consumed, pendingLength_ - consumed);
                OPENSSL_cleanse(pending_.data() + pendingLength_ - consumed, consumed);
                pendingLength_ -= consumed;
                return {line_.data(), length};
            }
            if (pendingLength_ >= assuan::kMaxLineLength) throw unavailable("a line from the program is too long");
            receive(deadline);
        }
    }

    void receive(Clock::time_point deadline)
    {
        while (true) {
            if (abandoned_ && abandoned_()) throw Error(ErrorCode::PinCancelled, "the dialog is no longer needed");
            const auto now = Clock::now();
            if (now >= deadline) throw Error(ErrorCode::PinEntryTimeout, "nobody answered inkand's PIN dialog in time");
            const auto wait = std::min<Clock::duration>(kPollSlice, deadline - now);
            pollfd fd{ours_->get(), POLLIN, 0};
            const int ready = ::poll(&fd, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
            if (ready < 0 && errno != EINTR) throw unavailable(std::string("poll failed: ") + std::strerror(errno));
            if (ready <= 0) continue;
            const ssize_t n = ::recv(ours_->get(), pending_.data() + pendingLength_, pending_.size() - pendingLength_, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                throw unavailable(std::string("cannot read from the program: ") + std::strerror(errno));
            }
            if (n == 0) throw unavailable("the program ended unexpectedly");
            pendingLength_ += static_cast<std::size_t>(n);
            return;
        }
    }

    const Abandoned& abandoned_;
    std::unique_ptr<FileDescriptor> ours_;
    std::unique_ptr<Child> child_;
    // Fixed buffers, wiped on destruction: a D line of GETPIN holds the PIN.
    std::array<char, assuan::kMaxLineLength> pending_{};
    std::size_t pendingLength_ = 0;
    std::array<char, assuan::kMaxLineLength> line_{};
};

/// The inkan::Error for a dialog that ended in ERR.
Error dialogError(std::uint32_t code)
{
    switch (code) {
    case assuan::kGpgErrCanceled:
    case assuan::kGpgErrFullyCanceled:
    case assuan::kGpgErrAssCanceled:
    case assuan::kGpgErrNotConfirmed: return Error(ErrorCode::PinCancelled, "the PIN entry was cancelled in inkand's dialog");
    case assuan::kGpgErrTimeout: return Error(ErrorCode::PinEntryTimeout, "nobody answered inkand's PIN dialog in time");
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
    session.expectGreeting(deadline);
    session.optionalSet(kSetTimeout, std::to_string(timeout.count()), deadline);
    session.optionalSet(kSetTitle, title, deadline);
    session.requiredSet(kSetDescription, description, deadline);
}

}  // namespace

Pinentry::Pinentry(Options options) : options_(std::move(options)) {}

bool Pinentry::available() const
{
    return !options_.program.empty() && ::access(options_.program.c_str(), X_OK) == 0;
}

Secret Pinentry::getPin(const PinPrompt& prompt, const Abandoned& abandoned) const
{
    if (!available()) throw unavailable("no pinentry program at " + options_.program.string());
    Session session(options_.program, abandoned);
    const auto setupDeadline = Clock::now() + kSetupLimit;
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
    Session session(options_.program, abandoned);
    const auto setupDeadline = Clock::now() + kSetupLimit;
    introduce(session, options_.timeout, prompt.title, prompt.description, setupDeadline);
    session.optionalSet(kSetOk, prompt.okLabel, setupDeadline);
    // Without its "not OK" button the dialog cannot tell a no from a dismissal.
    session.requiredSet(kSetNotOk, prompt.notOkLabel, setupDeadline);
    session.optionalSet(kSetCancel, prompt.cancelLabel, setupDeadline);

    const Reply reply = session.call(kConfirm, {}, Clock::now() + options_.timeout + kTimeoutGrace);
    if (reply.ok) return ConfirmAnswer::Yes;
    if (reply.errorCode == assuan::kGpgErrNotConfirmed) return ConfirmAnswer::No;
    const Error error = dialogError(reply.errorCode);
    if (error.code() == ErrorCode::PinCancelled) return ConfirmAnswer::Dismissed;
    throw error;
}

}  // namespace inkan::security
