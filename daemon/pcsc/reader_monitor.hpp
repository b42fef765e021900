// inkan — watches pcscd for readers and cards, on its own thread.
//
// Blocks in SCardGetStatusChange (no timeout, no polling) on every known
// reader plus the "\\?PnP?\Notification" pseudo-reader, which wakes it when a
// reader is plugged in or out. When pcscd dies it reports everything gone and
// pcscAvailable = false, then tries to establish a new context every
// kServiceRetryInterval until pcscd is back, and re-scans the readers.
// stop() wakes the thread with SCardCancel and joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/pcsc/bytes.hpp"

namespace inkan::pcsc {

class Context;

struct ReaderEvent {
    enum class Kind {
        PcscAvailable,    // a context with pcscd exists (again)
        PcscUnavailable,  // pcscd is gone; CardRemoved / ReaderRemoved for every reader follow
        ReaderAdded,
        ReaderRemoved,    // a CardRemoved for its card, if any, comes first
        CardInserted,     // atr set (empty for a mute card)
        CardRemoved,
    };
    Kind kind;
    std::string reader;  // empty for the Pcsc* kinds
    Bytes atr;
};

std::string_view toString(ReaderEvent::Kind kind);

/// Called on the monitor thread, one event at a time, in order.
using ReaderEventCallback = std::function<void(const ReaderEvent&)>;

class ReaderMonitor {
public:
    /// How long to wait between attempts to reach pcscd while it is down.
    static constexpr std::chrono::milliseconds kServiceRetryInterval{500};

    explicit ReaderMonitor(ReaderEventCallback onEvent);
    ~ReaderMonitor();  // stop()s

    ReaderMonitor(const ReaderMonitor&) = delete;
    ReaderMonitor& operator=(const ReaderMonitor&) = delete;

    void start();
    /// Wake the thread and join it. No event is published after stop() returns.
    void stop();

private:
    struct Watch;
    void run();
    void watch(Context& context, Watch& state);
    bool sleepUnlessStopped(std::chrono::milliseconds duration);

    ReaderEventCallback onEvent_;
    std::thread thread_;

    std::mutex mutex_;  // guards the fields below
    std::condition_variable wake_;
    bool stopping_ = false;
    bool exited_ = false;
    Context* context_ = nullptr;  // the context the thread may be blocked on
};

}  // namespace inkan::pcsc
