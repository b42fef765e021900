#include "client-sdk/cli/secret_input.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"

namespace inkan::cli {
namespace {

// Far above any card's PIN or unblock code (the reference card: 4–16 / 8–16
// digits); longer input is refused rather than cut.
constexpr std::size_t kMaxSecretLength = 255;

// Echo is off while a secret is typed. If the user presses Ctrl-C meanwhile,
// the terminal must not be left silent: the handler puts the saved settings
// back (tcsetattr is async-signal-safe) and re-raises the signal.
std::atomic<int> gTerminalFd{-1};
termios gSavedTerminal{};

extern "C" void restoreTerminalAndReraise(int signalNumber)
{
    int fd = gTerminalFd.load();
    if (fd >= 0) ::tcsetattr(fd, TCSAFLUSH, &gSavedTerminal);
    std::signal(signalNumber, SIG_DFL);
    std::raise(signalNumber);
}

constexpr std::array kInterruptingSignals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

/// Echo off on the terminal for the life of the object; the original settings
/// come back on every exit path, signals included.
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd)
    {
        if (::tcgetattr(fd_, &gSavedTerminal) != 0) {
            throw Failure(ExitCode::LocalIo, "cannot read the terminal settings: " + systemReason());
        }
        termios silent = gSavedTerminal;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        silent.c_lflag |= ECHONL;  // the Enter key still moves to the next line
        gTerminalFd.store(fd_);
        for (int s : kInterruptingSignals) {
            struct sigaction action {};
            action.sa_handler = restoreTerminalAndReraise;
            sigemptyset(&action.sa_mask);
            ::sigaction(s, &action, &previous_[index(s)]);
        }
        if (::tcsetattr(fd_, TCSAFLUSH, &silent) != 0) {
            restore();
            throw Failure(ExitCode::LocalIo, "cannot turn off the terminal echo: " + systemReason());
        }
    }
    ~EchoOff() { restore(); }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    static std::size_t index(int s)
    {
        for (std::size_t i = 0; i < kInterruptingSignals.size(); ++i)
            if (kInterruptingSignals[i] == s) return i;
        return 0;
    }
    void restore() noexcept
    {
        ::tcsetattr(fd_, TCSAFLUSH, &gSavedTerminal);
        gTerminalFd.store(-1);
        for (int s : kInterruptingSignals) ::sigaction(s, &previous_[index(s)], nullptr);
    }

    int fd_;
    std::array<struct sigaction, kInterruptingSignals.size()> previous_{};
};

/// A stack buffer for one line of secret input, wiped on every exit path.
class LineBuffer {
public:
    ~LineBuffer() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

    /// Reads up to a newline or end of input with read(2) (no stdio buffer
    /// keeps a copy). Returns false on end of input before any byte.
    bool readLine(int fd, std::string_view what)
    {
        length_ = 0;
        bool overflow = false;
        bool any = false;
        for (;;) {
            char c;
            ssize_t n = ::read(fd, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Failure(ExitCode::LocalIo, "cannot read the " + std::string(what) + ": " + systemReason());
            if (n == 0) break;
            any = true;
            if (c == '\n') break;
            if (length_ < kMaxSecretLength) {
                bytes_[length_++] = c;
            } else {
                overflow = true;  // keep reading to the end of the line, keep nothing
            }
            c = 0;
        }
        if (overflow) throw Failure(ExitCode::Usage, "the " + std::string(what) + " is longer than " + std::to_string(kMaxSecretLength) + " characters");
        if (length_ > 0 && bytes_[length_ - 1] == '\r') --length_;  // a line from a Windows editor
        return any;
    }

    std::string_view view() const noexcept { return {bytes_.data(), length_}; }

private:
    std::array<char, kMaxSecretLength + 1> bytes_{};
    std::size_t length_ = 0;
};

std::string whatOf(std::string_view prompt)
{
    // "PIN for card 0A1B: " -> "PIN for card 0A1B", for messages.
    std::string what(prompt);
    while (!what.empty() && (what.back() == ' ' || what.back() == ':')) what.pop_back();
    // Mid-sentence: "New PIN" -> "new PIN", but "PIN for card" stays.
    if (what.size() > 1 && what[0] >= 'A' && what[0] <= 'Z' && what[1] >= 'a' && what[1] <= 'z') what[0] = static_cast<char>(what[0] - 'A' + 'a');
    return what;
}

}  // namespace

SecretInput::SecretInput() : terminal_(::isatty(STDIN_FILENO) == 1) {}

Secret SecretInput::ask(std::string_view prompt)
{
    std::string what = whatOf(prompt);
    LineBuffer line;
    if (terminal_) {
        FileDescriptor tty{::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)};
        if (!tty) throw Failure(ExitCode::Usage, "no terminal to ask for the " + what + " on", "pipe it on stdin, one line per secret");
        // Echo goes off before the prompt appears: whatever is typed after
        // the prompt is never shown (earlier typeahead is discarded).
        EchoOff silent(tty.get());
        writeAll(STDERR_FILENO, prompt);
        if (!line.readLine(tty.get(), what)) throw Failure(ExitCode::Usage, "no " + what + " entered; nothing was sent to the card");
    } else if (!line.readLine(STDIN_FILENO, what)) {
        throw Failure(ExitCode::Usage, "expected the " + what + " as a line on stdin, found the end of input");
    }
    if (line.view().empty()) throw Failure(ExitCode::Usage, "no " + what + " entered; nothing was sent to the card");
    return Secret(line.view());
}

Secret SecretInput::askNew(std::string_view prompt, std::string_view confirmPrompt)
{
    Secret first = ask(prompt);
    if (!terminal_) return first;
    Secret again = ask(confirmPrompt);
    if (!sameSecret(first, again)) {
        throw Failure(ExitCode::Usage, "the two entries of the " + whatOf(prompt) + " differ; nothing was sent to the card");
    }
    return first;
}

bool sameSecret(const Secret& a, const Secret& b) noexcept
{
    return a.size() == b.size() && CRYPTO_memcmp(a.view().data(), b.view().data(), a.size()) == 0;
}

}  // namespace inkan::cli
