#include "client-sdk/cli/secret_input.hpp"

#include <array>
#include <string>

#include <openssl/crypto.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/terminal.hpp"

namespace inkan::cli {
namespace {

// Far above any card's PIN or unblock code (the reference card: 4–16 / 8–16
// digits); longer input is refused rather than cut.
constexpr std::size_t kMaxSecretLength = 255;

/// A stack buffer for one line of secret input, wiped on every exit path.
class LineBuffer {
public:
    ~LineBuffer() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

    /// Reads up to a newline or end of input, a byte at a time (no stdio
    /// buffer keeps a copy). Returns false on end of input before any byte.
    bool readLine(ByteSource& input, std::string_view what)
    {
        length_ = 0;
        bool overflow = false;
        bool any = false;
        for (;;) {
            char c;
            const int n = input.next(c);
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

SecretInput::SecretInput() : terminal_(stdinIsTerminal()) {}

Secret SecretInput::ask(std::string_view prompt)
{
    std::string what = whatOf(prompt);
    LineBuffer line;
    if (terminal_) {
        const auto tty = silentTerminal(prompt);
        if (!tty) throw Failure(ExitCode::Usage, "no terminal to ask for the " + what + " on", "pipe it on stdin, one line per secret");
        if (!line.readLine(*tty, what)) throw Failure(ExitCode::Usage, "no " + what + " entered; nothing was sent to the card");
    } else if (!line.readLine(*standardInput(), what)) {
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
