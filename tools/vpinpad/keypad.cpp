#include "tools/vpinpad/keypad.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "daemon/file_descriptor.hpp"

namespace inkan::vpinpad {

namespace {

constexpr char kLineFeed = '\n';
constexpr char kCarriageReturn = '\r';

[[noreturn]] void throwErrno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

std::optional<std::size_t> firstLineLength(std::string_view contents)
{
    const std::size_t end = contents.find(kLineFeed);
    if (end == std::string_view::npos) return std::nullopt;
    return end + 1;
}

KeypadEntry interpretLine(std::string_view line)
{
    if (!line.empty() && line.back() == kCarriageReturn) line.remove_suffix(1);
    if (line == kCancelLine) return {KeyPress::Cancelled, {}};
    if (line == kTimeoutLine) return {KeyPress::TimedOut, {}};
    return {KeyPress::Entered, WipedText(line)};
}

std::optional<KeypadEntry> Keypad::tryTake() const
{
    const FileDescriptor file(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!file) {
        if (errno == ENOENT) return std::nullopt;  // nothing typed yet
        throwErrno("cannot open the keypad file " + path_);
    }
    // A writer holding the lock is mid-entry: look again next round.
    if (::flock(file.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK || errno == EINTR) return std::nullopt;
        throwErrno("cannot lock the keypad file " + path_);
    }
    struct stat status {};
    if (::fstat(file.get(), &status) != 0) throwErrno("cannot stat the keypad file " + path_);
    if (status.st_size <= 0) return std::nullopt;
    if (static_cast<std::size_t>(status.st_size) > kMaxFileSize) {
        throw std::runtime_error("the keypad file " + path_ + " is larger than 64 KiB");
    }

    WipedBytes contents(static_cast<std::size_t>(status.st_size));
    std::size_t have = 0;
    while (have < contents.size()) {
        const ssize_t n = ::pread(file.get(), contents.data() + have, contents.size() - have, static_cast<off_t>(have));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwErrno("cannot read the keypad file " + path_);
        if (n == 0) break;  // shrunk meanwhile (an unlocked writer)
        have += static_cast<std::size_t>(n);
    }
    const std::string_view text(reinterpret_cast<const char*>(contents.data()), have);
    const std::optional<std::size_t> lineLength = firstLineLength(text);
    if (!lineLength) return std::nullopt;

    KeypadEntry entry = interpretLine(text.substr(0, *lineLength - 1));

    // The rest moves to the front; the file then ends where the rest does.
    const std::string_view rest = text.substr(*lineLength);
    std::size_t written = 0;
    while (written < rest.size()) {
        const ssize_t n = ::pwrite(file.get(), rest.data() + written, rest.size() - written, static_cast<off_t>(written));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throwErrno("cannot rewrite the keypad file " + path_);
        written += static_cast<std::size_t>(n);
    }
    if (::ftruncate(file.get(), static_cast<off_t>(rest.size())) != 0) {
        throwErrno("cannot truncate the keypad file " + path_);
    }
    return entry;
}

std::optional<KeypadEntry> Keypad::waitForEntry(std::chrono::milliseconds timeout,
                                                const std::function<bool()>& stillWanted) const
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (std::optional<KeypadEntry> entry = tryTake()) return entry;
        if (std::chrono::steady_clock::now() >= deadline) return KeypadEntry{KeyPress::TimedOut, {}};
        std::this_thread::sleep_for(kPollInterval);
        if (!stillWanted()) return std::nullopt;
    }
}

}  // namespace inkan::vpinpad
