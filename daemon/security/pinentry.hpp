// inkan — asking the user outside the web page: GnuPG's pinentry programs
// (pinentry-gnome3, -qt, -curses, -tty; config "pinentryProgram").
//
// inkand starts the program for each dialog (daemon/platform/child_process.hpp),
// speaks Assuan with it on its stdin/stdout through libassuan (assuan.hpp),
// and ends it afterwards. The
// PIN comes back in a D line straight into an inkan::Secret; every buffer it
// passed through is wiped; nothing of it is logged. The page that asked
// never sees the dialog's content or the PIN: the dialog belongs to the
// user's desktop (or terminal), not to the browser.
//
// Calls block until the user answers (or the timeout): run them on a thread
// of their own, never on the network thread or a card worker.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "daemon/secret.hpp"

namespace inkan::security {

/// What a PIN dialog shows (pinentry's SETTITLE, SETDESC, SETPROMPT, SETOK, SETREPEAT).
struct PinPrompt {
    std::string title;
    std::string description;  // several lines: who asks, for which card, what for, tries left
    std::string prompt;       // the label of the input field, e.g. "PIN:"
    std::string okLabel;      // e.g. "Sign"
    /// Ask twice (a new PIN): the label of the second field.
    std::optional<std::string> repeatPrompt;
    std::string repeatMismatch;  // shown when the two differ
    std::string errorText;       // shown above the field (e.g. the last answer was refused)
};

/// What a confirmation dialog shows (pinentry's CONFIRM with SETOK,
/// SETNOTOK and SETCANCEL: three buttons).
struct ConfirmPrompt {
    std::string title;
    std::string description;
    std::string okLabel;     // yes
    std::string notOkLabel;  // no
    std::string cancelLabel; // not now (also what a broken or closed dialog answers)
};

/// The user's answer to a confirmation. A pinentry that cannot show itself
/// answers as if cancelled, so only the "not OK" button counts as a no.
enum class ConfirmAnswer { Yes, No, Dismissed };

/// Returns true once nobody needs the answer any more (the dialog is then closed).
using Abandoned = std::function<bool()>;

class Pinentry {
public:
    struct Options {
        std::filesystem::path program;
        /// How long the user has to answer (pinentry's SETTIMEOUT); inkand
        /// ends the program itself a little after that.
        std::chrono::seconds timeout{60};
    };

    explicit Pinentry(Options options);

    /// Ask for a PIN. Throws inkan::Error: PinCancelled (the user cancelled,
    /// or `abandoned` said so), PinEntryTimeout, PinEntryUnavailable (the
    /// program could not be started or broke the protocol).
    Secret getPin(const PinPrompt& prompt, const Abandoned& abandoned = {}) const;

    /// Ask yes, no or not now. Throws PinEntryTimeout, PinEntryUnavailable,
    /// PinCancelled (only when `abandoned`).
    ConfirmAnswer confirm(const ConfirmPrompt& prompt, const Abandoned& abandoned = {}) const;

    /// Whether the program exists and is executable.
    bool available() const;

    const Options& options() const noexcept { return options_; }

private:
    Options options_;
};

}  // namespace inkan::security
