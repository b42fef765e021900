#include "daemon/service/event_bus.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <mutex>
#include <utility>

#include "daemon/error.hpp"

namespace inkan::service {

namespace {

// firstIdFor(): ids of one run start at (seconds since the epoch) << 20.
constexpr int kIdSecondsShift = 20;

// The longest decimal uint64_t has 20 digits.
constexpr std::size_t kMaxIdDigits = 20;

// Why a reader could not resume (the `reason` of a reset event).
constexpr std::string_view kResetExpired = "expired";  // older than the history, or from an earlier run
constexpr std::string_view kResetInvalid = "invalid";  // not an id this bus has handed out

std::string compactJson(const nlohmann::ordered_json& payload)
{
    // One line (SSE data lines cannot hold a newline; dump() escapes control
    // characters), and text that is not UTF-8 is replaced rather than thrown on.
    return payload.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<std::uint64_t> parseId(std::string_view text)
{
    if (text.empty() || text.size() > kMaxIdDigits) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::uint64_t firstIdFor(std::chrono::system_clock::time_point now)
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    return (static_cast<std::uint64_t>(std::max<std::int64_t>(seconds, 0)) << kIdSecondsShift) + 1;
}

// One reader's queue. Its own lock, so a reader taking events never waits for
// a publisher walking the other readers.
struct Subscription::State {
    std::mutex mutex;
    std::deque<EventPtr> queue;
    End end = End::None;
    std::function<void()> wake;  // immutable after subscribe()
    std::weak_ptr<EventBus::Shared> bus;
};

struct EventBus::Shared {
    explicit Shared(EventBusOptions options_) : options(options_) {}

    const EventBusOptions options;
    mutable std::mutex mutex;  // guards everything below; taken before any State::mutex
    std::deque<EventPtr> history;
    std::uint64_t nextId = 1;
    std::vector<std::shared_ptr<Subscription::State>> subscribers;
    bool closed = false;

    void remove(const Subscription::State* state)
    {
        const std::lock_guard lock(mutex);
        std::erase_if(subscribers, [&](const auto& s) { return s.get() == state; });
    }
};

// --- Subscription -----------------------------------------------------------

Subscription::Batch Subscription::take()
{
    const std::lock_guard lock(state_->mutex);
    Batch batch;
    batch.events.assign(std::make_move_iterator(state_->queue.begin()), std::make_move_iterator(state_->queue.end()));
    state_->queue.clear();
    batch.end = state_->end;
    return batch;
}

Subscription::~Subscription()
{
    if (auto bus = state_->bus.lock()) bus->remove(state_.get());
}

// --- EventBus ---------------------------------------------------------------

EventBus::EventBus(EventBusOptions options) : shared_(std::make_shared<Shared>(options))
{
    shared_->nextId = options.firstId != 0 ? options.firstId : firstIdFor(std::chrono::system_clock::now());
}

EventBus::~EventBus() { close(); }

std::uint64_t EventBus::publish(std::string_view type, const nlohmann::ordered_json& payload)
{
    auto event = std::make_shared<Event>();
    event->type = std::string(type);
    event->data = compactJson(payload);

    std::vector<std::function<void()>> wakes;
    std::uint64_t id = 0;
    {
        const std::lock_guard lock(shared_->mutex);
        id = shared_->nextId++;
        event->id = id;
        const EventPtr shared = std::move(event);

        shared_->history.push_back(shared);
        while (shared_->history.size() > shared_->options.history) shared_->history.pop_front();

        for (auto it = shared_->subscribers.begin(); it != shared_->subscribers.end();) {
            Subscription::State& state = **it;
            bool dropped = false;
            {
                const std::lock_guard stateLock(state.mutex);
                if (state.queue.size() >= shared_->options.subscriberQueue) {
                    // This reader does not keep up. It gets what is queued, then
                    // its stream ends; it can resume from the history.
                    state.end = Subscription::End::Overflow;
                    dropped = true;
                } else {
                    state.queue.push_back(shared);
                }
            }
            wakes.push_back(state.wake);
            it = dropped ? shared_->subscribers.erase(it) : it + 1;
        }
    }
    for (const auto& wake : wakes) {
        if (wake) wake();
    }
    return id;
}

std::unique_ptr<Subscription> EventBus::subscribe(std::optional<std::string_view> lastEventId, std::function<void()> wake)
{
    auto state = std::make_shared<Subscription::State>();
    state->wake = std::move(wake);
    state->bus = shared_;

    const std::lock_guard lock(shared_->mutex);
    if (shared_->closed) throw Error(ErrorCode::Busy, "inkand is shutting down");
    if (shared_->subscribers.size() >= shared_->options.maxSubscribers) {
        throw Error(ErrorCode::Busy, "too many readers of the event stream");
    }

    if (lastEventId) {
        const std::uint64_t latest = shared_->nextId - 1;
        const std::uint64_t oldest = shared_->history.empty() ? shared_->nextId : shared_->history.front()->id;
        const auto seen = parseId(*lastEventId);
        std::optional<std::string_view> resetReason;
        if (!seen || *seen > latest) {
            resetReason = kResetInvalid;
        } else if (*seen + 1 < oldest) {
            resetReason = kResetExpired;
        } else {
            for (const auto& event : shared_->history) {
                if (event->id > *seen) state->queue.push_back(event);
            }
        }
        if (resetReason) {
            auto reset = std::make_shared<Event>();
            reset->id = latest;  // resuming from here loses nothing that follows
            reset->type = std::string(event_type::kReset);
            reset->data = compactJson(nlohmann::ordered_json{{"reason", *resetReason}});
            state->queue.push_back(std::move(reset));
        }
    }
    shared_->subscribers.push_back(state);
    return std::unique_ptr<Subscription>(new Subscription(std::move(state), shared_->nextId - 1));
}

void EventBus::close()
{
    std::vector<std::function<void()>> wakes;
    {
        const std::lock_guard lock(shared_->mutex);
        shared_->closed = true;
        for (const auto& state : shared_->subscribers) {
            {
                const std::lock_guard stateLock(state->mutex);
                state->end = Subscription::End::Closed;
            }
            wakes.push_back(state->wake);
        }
        shared_->subscribers.clear();
    }
    for (const auto& wake : wakes) {
        if (wake) wake();
    }
}

std::uint64_t EventBus::lastId() const
{
    const std::lock_guard lock(shared_->mutex);
    return shared_->nextId - 1;
}

std::size_t EventBus::subscriberCount() const
{
    const std::lock_guard lock(shared_->mutex);
    return shared_->subscribers.size();
}

}  // namespace inkan::service
