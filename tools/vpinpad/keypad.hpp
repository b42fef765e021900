// inkan-vpinpad — the PIN pad's keys: a text file a test writes.
//
// One line per entry, "\n"-terminated ("\r\n" accepted):
//   anything else  the characters typed, then OK (a PIN, an unblock code)
//   CANCEL         the Cancel key                  → the reader answers 64 01
//   TIMEOUT        nobody types before the timer   → 64 00 at once (tests need
//                  not sit through the real timeout)
// The reader takes the FIRST complete line and rewrites the file without it,
// so a test can queue several entries (verify, or old/new/confirm for a
// change) or write one only once it has seen the reader waiting. A partial
// line (no newline yet) is not an entry. Writers that add lines while the
// reader may be consuming should hold flock(LOCK_EX) on the file while they
// write; the reader takes the same lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tools/vpinpad/wiped.hpp"

namespace inkan::vpinpad {

enum class KeyPress {
    Entered,    // characters then OK
    Cancelled,  // the Cancel key
    TimedOut,   // no entry in time (the TIMEOUT line, or the timer ran out)
};

struct KeypadEntry {
    KeyPress key = KeyPress::TimedOut;
    WipedText typed;  // the characters, for KeyPress::Entered only
};

inline constexpr std::string_view kCancelLine = "CANCEL";
inline constexpr std::string_view kTimeoutLine = "TIMEOUT";

/// Pure: the length of the first complete line including its '\n', if any.
std::optional<std::size_t> firstLineLength(std::string_view contents);

/// Pure: what one line (without its line end) means.
KeypadEntry interpretLine(std::string_view line);

class Keypad {
public:
    /// How often the file is looked at while the reader waits.
    static constexpr std::chrono::milliseconds kPollInterval{50};
    /// The file is a handful of short lines; anything bigger is a mistake.
    static constexpr std::size_t kMaxFileSize = 64 * 1024;

    explicit Keypad(std::string path) : path_(std::move(path)) {}

    const std::string& path() const noexcept { return path_; }

    /// Takes the first complete line, if there is one. A missing file is an
    /// empty keypad. Throws std::system_error on I/O failure and
    /// std::runtime_error when the file exceeds kMaxFileSize.
    std::optional<KeypadEntry> tryTake() const;

    /// Waits up to `timeout` for an entry, looking every kPollInterval.
    /// `stillWanted` is asked between looks (the card is still in); when it
    /// says false the wait ends with nullopt.
    std::optional<KeypadEntry> waitForEntry(std::chrono::milliseconds timeout,
                                            const std::function<bool()>& stillWanted) const;

private:
    std::string path_;
};

}  // namespace inkan::vpinpad
