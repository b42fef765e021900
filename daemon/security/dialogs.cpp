#include "daemon/security/dialogs.hpp"

#include "daemon/error.hpp"

namespace inkan::security {

namespace {

class DialogTask final : public service::Worker::Task {
public:
    DialogTask(DialogRunner::Work work, std::function<void(std::exception_ptr)> refused, const Pinentry* pinentry,
               const Abandoned& stopping)
        : work_(std::move(work)), refused_(std::move(refused)), pinentry_(pinentry), stopping_(stopping)
    {
    }

    void run() override
    {
        if (!pinentry_) {
            fail(std::make_exception_ptr(Error(ErrorCode::PinEntryUnavailable, "no pinentry program is configured")));
            return;
        }
        work_(*pinentry_, stopping_);
    }

    void fail(std::exception_ptr reason) noexcept override
    {
        if (refused_) refused_(std::move(reason));
    }

private:
    DialogRunner::Work work_;
    std::function<void(std::exception_ptr)> refused_;
    const Pinentry* pinentry_;
    const Abandoned& stopping_;
};

}  // namespace

DialogRunner::DialogRunner(std::optional<Pinentry> pinentry)
    : pinentry_(std::move(pinentry)), isStopping_([this] { return stopping_.load(); })
{
}

DialogRunner::~DialogRunner() { stop(); }

void DialogRunner::stop()
{
    stopping_ = true;
    worker_.retire(Error(ErrorCode::PinEntryUnavailable, "inkand is shutting down"));
    worker_.join();
}

bool DialogRunner::available() const { return pinentry_ && pinentry_->available(); }

void DialogRunner::post(Work work, std::function<void(std::exception_ptr)> refused)
{
    auto task = std::make_unique<DialogTask>(std::move(work), std::move(refused), pinentry_ ? &*pinentry_ : nullptr,
                                             isStopping_);
    if (auto back = worker_.post(std::move(task))) back->fail(std::make_exception_ptr(worker_.retireReason()));
}

}  // namespace inkan::security
