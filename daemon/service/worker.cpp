#include "daemon/service/worker.hpp"

#include <iostream>

#include "daemon/error.hpp"

namespace inkan::service {

Worker::Worker(std::function<void()> onExit) : onExit_(std::move(onExit)), thread_([this] { run(); }) {}

Worker::~Worker()
{
    retire(Error(ErrorCode::Internal, "the worker was destroyed"));
    if (thread_.joinable()) {
        if (isCurrentThread()) {
            // Destroyed by one of its own tasks: joining would deadlock. The
            // thread ends right after this task; nothing of *this is used after.
            thread_.detach();
        } else {
            thread_.join();
        }
    }
}

std::unique_ptr<Worker::Task> Worker::post(std::unique_ptr<Task> task)
{
    {
        const std::lock_guard lock(mutex_);
        if (retired_) return task;
        queue_.push_back(std::move(task));
    }
    wake_.notify_all();
    return nullptr;
}

void Worker::retire(Error reason)
{
    {
        const std::lock_guard lock(mutex_);
        if (retired_) return;
        retired_ = true;
        retireReason_ = std::move(reason);
    }
    wake_.notify_all();
}

Error Worker::retireReason() const
{
    const std::lock_guard lock(mutex_);
    return retireReason_.value_or(Error(ErrorCode::Internal, "the worker is still running"));
}

bool Worker::sleepUnlessRetired(std::chrono::milliseconds duration)
{
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, duration, [this] { return retired_; });
}

void Worker::join()
{
    if (thread_.joinable() && !isCurrentThread()) thread_.join();
}

bool Worker::finished() const
{
    const std::lock_guard lock(mutex_);
    return finished_;
}

void Worker::run()
{
    for (;;) {
        std::unique_ptr<Task> task;
        std::deque<std::unique_ptr<Task>> refused;
        std::optional<Error> reason;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return retired_ || !queue_.empty(); });
            if (retired_) {
                refused.swap(queue_);
                reason = retireReason_;
            } else {
                task = std::move(queue_.front());
                queue_.pop_front();
            }
        }
        if (task) {
            try {
                task->run();
            } catch (const std::exception& e) {
                // Tasks complete their callers themselves; this is a last line.
                std::cerr << "inkand: a task failed unexpectedly: " << e.what() << '\n';
            } catch (...) {
                std::cerr << "inkand: a task failed unexpectedly\n";
            }
            continue;
        }
        for (auto& t : refused) t->fail(std::make_exception_ptr(*reason));
        break;
    }
    if (onExit_) {
        try {
            onExit_();
        } catch (...) {
        }
    }
    const std::lock_guard lock(mutex_);
    finished_ = true;
}

}  // namespace inkan::service
