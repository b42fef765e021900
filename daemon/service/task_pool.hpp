// inkan — a few threads for work that blocks on the network (OCSP, CRLs),
// so that it never runs on the HTTP I/O thread or on a card's worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/error.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/completion_task.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::service {

class TaskPool {
public:
    using Task = Worker::Task;

    /// Starts `threads` threads (at least one). At most `maxQueued` tasks wait
    /// at a time: a burst of requests cannot pile up unbounded network work.
    TaskPool(std::size_t threads, std::size_t maxQueued);
    /// Retires (queued tasks fail) and joins.
    ~TaskPool();

    TaskPool(const TaskPool&) = delete;
    TaskPool& operator=(const TaskPool&) = delete;

    /// Queues a task; exactly one of its run() / fail() is then called on a
    /// pool thread. Returns the task back when the queue is full or the pool
    /// is retired: the caller must fail it itself (see refusal()).
    std::unique_ptr<Task> post(std::unique_ptr<Task> task);

    /// Why post() gave a task back: Busy, with a word on the cause.
    Error refusal() const;

    /// Take no more tasks; running ones finish, queued ones fail with a copy
    /// of `reason` each, on a pool thread. Only the first call's reason counts.
    void retire(Error reason);
    /// Waits for every thread to end (retire() first). Not from a pool thread.
    void join();

private:
    void run();

    const std::size_t maxQueued_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Task>> queue_;
    std::optional<Error> retireReason_;
    std::vector<std::thread> threads_;  // last: started once everything above exists
};

/// Runs `body` on `pool` and completes `done` with its outcome; when the pool
/// refuses, `done` gets the refusal at once, on the caller's thread.
template <class T, class Body>
void runOnPool(TaskPool& pool, Body body, Completion<T> done)
{
    auto task = pool.post(makeCompletionTask<T>(std::move(body), std::move(done)));
    if (task) task->fail(std::make_exception_ptr(pool.refusal()));
}

}  // namespace inkan::service
