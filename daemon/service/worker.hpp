// inkan — a thread that runs queued tasks one at a time (one per card, plus
// one for answers that need no card).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "daemon/error.hpp"

namespace inkan::service {

class Worker {
public:
    /// A unit of work. Exactly one of run() / fail() is called, on the worker thread.
    class Task {
    public:
        virtual ~Task() = default;
        virtual void run() = 0;
        virtual void fail(std::exception_ptr reason) noexcept = 0;
    };

    /// Starts the thread. `onExit` runs on it after the last task (e.g. to
    /// close the card connection on the thread that used it).
    explicit Worker(std::function<void()> onExit = {});
    /// Retires (queued tasks fail) and joins.
    ~Worker();

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Queues a task. Returns it back when the worker has been retired; the
    /// caller must then fail it itself (see retireReason()).
    std::unique_ptr<Task> post(std::unique_ptr<Task> task);

    /// Take no more tasks. The running task finishes; the queued ones fail
    /// with a copy of `reason` each (no exception object is shared between
    /// completions), on the worker thread; then the thread ends. Only the
    /// first call's reason counts.
    void retire(Error reason);
    /// Why the worker was retired (a fresh copy); Internal if it was not.
    Error retireReason() const;

    /// Waits up to `duration`; returns early (false) when retired. For a
    /// task's pauses between retries.
    bool sleepUnlessRetired(std::chrono::milliseconds duration);

    /// Waits for the thread to end (retire() first). Does nothing when called
    /// on the worker's own thread.
    void join();
    bool finished() const;
    bool isCurrentThread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

private:
    void run();

    std::function<void()> onExit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Task>> queue_;
    std::optional<Error> retireReason_;
    bool retired_ = false;
    bool finished_ = false;
    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace inkan::service
