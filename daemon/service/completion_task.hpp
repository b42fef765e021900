// inkan — a Worker task that completes a caller's Completion<T> exactly once.
#pragma once

#include <exception>
#include <iostream>
#include <memory>
#include <utility>
#include <variant>

#include "daemon/error.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::service {

/// Completes `done` exactly once: with `body()`'s value or what it threw
/// (run), with the reason it failed without running (fail), or, should the
/// task be dropped by a bug, with Internal from its destructor.
template <class T, class Body>
class CompletionTask final : public Worker::Task {
public:
    CompletionTask(Body body, Completion<T> done) : body_(std::move(body)), done_(std::move(done)) {}
    ~CompletionTask() override
    {
        if (done_) fail(std::make_exception_ptr(Error(ErrorCode::Internal, "the operation was dropped")));
    }

    CompletionTask(const CompletionTask&) = delete;
    CompletionTask& operator=(const CompletionTask&) = delete;

    void run() override
    {
        Outcome<T> outcome = [this]() -> Outcome<T> {
            try {
                return Outcome<T>(std::in_place_index<0>, body_());
            } catch (...) {
                return Outcome<T>(std::in_place_index<1>, std::current_exception());
            }
        }();
        deliver(std::move(outcome));
    }
    void fail(std::exception_ptr reason) noexcept override
    {
        deliver(Outcome<T>(std::in_place_index<1>, std::move(reason)));
    }

private:
    void deliver(Outcome<T> outcome) noexcept
    {
        auto done = std::move(done_);
        done_ = nullptr;
        if (!done) return;
        try {
            done(std::move(outcome));
        } catch (const std::exception& e) {
            // A completion must not throw; all that is left is to say so.
            std::cerr << "inkand: a completion threw: " << e.what() << '\n';
        } catch (...) {
            std::cerr << "inkand: a completion threw\n";
        }
    }

    Body body_;
    Completion<T> done_;
};

template <class T, class Body>
std::unique_ptr<Worker::Task> makeCompletionTask(Body body, Completion<T> done)
{
    return std::make_unique<CompletionTask<T, Body>>(std::move(body), std::move(done));
}

}  // namespace inkan::service
