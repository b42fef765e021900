// inkan CLI — secrets typed on a POSIX terminal (terminal.hpp): /dev/tty,
// termios, and signal handlers that put the echo back.
#include "client-sdk/cli/terminal.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"

namespace inkan::cli {
namespace {

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

/// One byte from a descriptor with read(2), retried when interrupted.
int readByte(int fd, char& c)
{
    for (;;) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -1 : static_cast<int>(n);
    }
}

class StandardInput final : public ByteSource {
public:
    int next(char& c) override { return readByte(STDIN_FILENO, c); }
};

/// /dev/tty with echo off for the life of the object.
class SilentTerminal final : public ByteSource {
public:
    explicit SilentTerminal(FileDescriptor tty) : tty_(std::move(tty))
    {
        if (::tcgetattr(tty_.get(), &gSavedTerminal) != 0) {
            throw Failure(ExitCode::LocalIo, "cannot read the terminal settings: " + systemReason());
        }
        termios silent = gSavedTerminal;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        silent.c_lflag |= ECHONL;  // the Enter key still moves to the next line
        gTerminalFd.store(tty_.get());
        for (int s : kInterruptingSignals) {
            struct sigaction action {};
            action.sa_handler = restoreTerminalAndReraise;
            sigemptyset(&action.sa_mask);
            ::sigaction(s, &action, &previous_[index(s)]);
        }
        if (::tcsetattr(tty_.get(), TCSAFLUSH, &silent) != 0) {
            restore();
            throw Failure(ExitCode::LocalIo, "cannot turn off the terminal echo: " + systemReason());
        }
    }
    ~SilentTerminal() override { restore(); }
    SilentTerminal(const SilentTerminal&) = delete;
    SilentTerminal& operator=(const SilentTerminal&) = delete;

    int next(char& c) override { return readByte(tty_.get(), c); }

private:
    static std::size_t index(int s)
    {
        for (std::size_t i = 0; i < kInterruptingSignals.size(); ++i)
            if (kInterruptingSignals[i] == s) return i;
        return 0;
    }
    void restore() noexcept
    {
        ::tcsetattr(tty_.get(), TCSAFLUSH, &gSavedTerminal);
        gTerminalFd.store(-1);
        for (int s : kInterruptingSignals) ::sigaction(s, &previous_[index(s)], nullptr);
    }

    FileDescriptor tty_;
    std::array<struct sigaction, kInterruptingSignals.size()> previous_{};
};

}  // namespace

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

bool stdoutIsTerminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::unique_ptr<ByteSource> standardInput() { return std::make_unique<StandardInput>(); }

std::unique_ptr<ByteSource> silentTerminal(std::string_view prompt)
{
    FileDescriptor tty{::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)};
    if (!tty) return nullptr;
    // Echo goes off before the prompt appears: whatever is typed after the
    // prompt is never shown (earlier typeahead is discarded).
    auto terminal = std::make_unique<SilentTerminal>(std::move(tty));
    writeAll(STDERR_FILENO, prompt);
    return terminal;
}

}  // namespace inkan::cli
