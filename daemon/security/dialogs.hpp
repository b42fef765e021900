// inkan — inkand's dialogs with the user (PIN entry, pairing confirmation),
// one at a time, on a thread of their own: a dialog waits for a person for up
// to a minute, which neither the network thread nor a card worker may do.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "daemon/security/pinentry.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::security {

class DialogRunner {
public:
    /// `pinentry` nullopt: no dialogs can be shown (available() is false).
    explicit DialogRunner(std::optional<Pinentry> pinentry);
    /// Calls stop().
    ~DialogRunner();

    /// Closes the dialog on screen (as cancelled), fails the queued ones and
    /// waits for the thread. Idempotent.
    void stop();

    DialogRunner(const DialogRunner&) = delete;
    DialogRunner& operator=(const DialogRunner&) = delete;

    bool available() const;

    /// Runs `work` on the dialog thread after the dialogs queued before it.
    /// `work` gets the pinentry and a predicate that turns true when inkand
    /// stops (pass it on as the dialog's Abandoned). When the runner is
    /// stopping, `refused` gets the reason instead (on the dialog thread, or
    /// on the caller's once stopped).
    using Work = std::function<void(const Pinentry& pinentry, const Abandoned& stopping)>;
    void post(Work work, std::function<void(std::exception_ptr)> refused);

private:
    std::optional<Pinentry> pinentry_;
    std::atomic<bool> stopping_{false};
    Abandoned isStopping_;
    service::Worker worker_;  // last: its thread uses the members above
};

}  // namespace inkan::security
