#include "daemon/service/task_pool.hpp"

#include <algorithm>
#include <exception>

namespace inkan::service {

TaskPool::TaskPool(std::size_t threads, std::size_t maxQueued) : maxQueued_(maxQueued)
{
    const std::size_t count = std::max<std::size_t>(threads, 1);
    threads_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
}

TaskPool::~TaskPool()
{
    retire(Error(ErrorCode::Busy, "inkand is shutting down"));
    join();
}

std::unique_ptr<TaskPool::Task> TaskPool::post(std::unique_ptr<Task> task)
{
    {
        const std::lock_guard lock(mutex_);
        if (retireReason_ || queue_.size() >= maxQueued_) return task;
        queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return nullptr;
}

Error TaskPool::refusal() const
{
    const std::lock_guard lock(mutex_);
    if (retireReason_) return *retireReason_;
    return Error(ErrorCode::Busy, "too many certificate checks are waiting; try again shortly");
}

void TaskPool::retire(Error reason)
{
    {
        const std::lock_guard lock(mutex_);
        if (!retireReason_) retireReason_ = std::move(reason);
    }
    wake_.notify_all();
}

void TaskPool::join()
{
    for (auto& thread : threads_) {
        if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
    }
}

void TaskPool::run()
{
    while (true) {
        std::unique_ptr<Task> task;
        std::optional<Error> reason;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return !queue_.empty() || retireReason_; });
            if (queue_.empty()) return;  // retired and drained
            task = std::move(queue_.front());
            queue_.pop_front();
            reason = retireReason_;
        }
        if (reason) {
            task->fail(std::make_exception_ptr(*reason));
        } else {
            task->run();
        }
    }
}

}  // namespace inkan::service
