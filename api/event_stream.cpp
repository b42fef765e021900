#include "api/event_stream.hpp"

#include <mutex>
#include <utility>

#include "daemon/error.hpp"

namespace inkan::api {

namespace {

// The request header a reconnecting reader names the last event it saw with
// (WHATWG HTML §9.2.4).
constexpr std::string_view kLastEventId = "Last-Event-ID";

// A comment line: readers ignore it (WHATWG HTML §9.2.6, lines starting with ':').
constexpr std::string_view kHeartbeat = ": heartbeat\n\n";

}  // namespace

std::string formatEvent(const service::Event& event)
{
    // Neither the type (one of event_type) nor the compact JSON data can hold
    // a line break, so each field is exactly one line.
    std::string text;
    text.reserve(event.type.size() + event.data.size() + 40);
    text.append("id: ").append(std::to_string(event.id)).append("\n");
    text.append("event: ").append(event.type).append("\n");
    text.append("data: ").append(event.data).append("\n\n");
    return text;
}

// Where the bus's wake-ups go: nowhere until the server has started the
// stream, and nowhere after it stopped. The bus may call it from any thread.
struct EventStream::Waker {
    std::mutex mutex;
    std::function<void()> wake;

    void operator()()
    {
        std::function<void()> function;
        {
            const std::lock_guard lock(mutex);
            function = wake;
        }
        // Outside the lock: it only schedules work on the connection's strand,
        // but may drop the last reference to the connection, whose end stops
        // this stream and takes the lock.
        if (function) function();
    }
    void set(std::function<void()> function)
    {
        const std::lock_guard lock(mutex);
        wake = std::move(function);
    }
};

EventStream::EventStream(service::EventBus& bus, std::optional<std::string_view> lastEventId,
                         std::chrono::milliseconds heartbeat, std::function<bool()> stillAllowed)
    : waker_(std::make_shared<Waker>()), heartbeat_(heartbeat), stillAllowed_(std::move(stillAllowed)),
      resumed_(lastEventId.has_value())
{
    subscription_ = bus.subscribe(lastEventId, [waker = waker_] { (*waker)(); });
}

EventStream::~EventStream() { stop(); }

void EventStream::start(std::function<void()> wake) { waker_->set(std::move(wake)); }

ResponseStream::Chunk EventStream::next(bool idle)
{
    Chunk chunk;
    if (subscription_ && stillAllowed_ && !stillAllowed_()) subscription_.reset();
    if (!subscription_) {
        chunk.end = true;
        return chunk;
    }
    if (!started_) {
        started_ = true;
        chunk.data.append("retry: ").append(std::to_string(kEventRetryDelay.count())).append("\n");
        // A new reader learns where it stands: a block with an id and no data
        // sets the last event id without dispatching an event (WHATWG HTML
        // §9.2.6), so it can resume from here even if no event ever reaches it.
        // A resuming reader already has its id, and its replay follows.
        if (!resumed_) chunk.data.append("id: ").append(std::to_string(subscription_->startId())).append("\n");
        chunk.data.append("\n");
    }
    service::Subscription::Batch batch = subscription_->take();
    for (const auto& event : batch.events) chunk.data += formatEvent(*event);
    if (batch.end != service::Subscription::End::None) {
        // Dropped for falling behind, or the daemon stops: the reader
        // reconnects (after `retry`) and resumes from the last id it got.
        chunk.end = true;
        subscription_.reset();
    } else if (chunk.data.empty() && idle) {
        chunk.data = kHeartbeat;
    }
    return chunk;
}

void EventStream::stop() noexcept
{
    waker_->set(nullptr);
    subscription_.reset();
}

void registerEventRoutes(Router& router, service::EventBus& bus, security::ConsoleSessions* sessions)
{
    router.add("GET", "/v1/events", [&bus, sessions](const RequestContext& context, Respond respond) {
        const Headers& headers = context.request.headers;
        if (headers.count(kLastEventId) > 1) throw Error(ErrorCode::BadRequest, "the Last-Event-ID header appears more than once");
        const std::optional<std::string_view> lastEventId = headers.get(kLastEventId);

        Response response;
        response.contentType = std::string(kEventStreamContentType);
        std::function<bool()> stillAllowed;
        if (sessions && context.caller.kind == Caller::Kind::OwnOrigin) {
            stillAllowed = [sessions, id = context.caller.session] { return sessions->isLive(id); };
        }
        response.stream = std::make_shared<EventStream>(bus, lastEventId, kEventHeartbeatInterval, std::move(stillAllowed));
        respond(std::move(response));
    });
}

}  // namespace inkan::api
