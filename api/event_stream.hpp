// inkan — GET /v1/events: the daemon's event bus as a text/event-stream
// (Server-Sent Events, WHATWG HTML §9.2). Browsers read it with fetch()
// streaming, since EventSource cannot send the headers the gate needs;
// the format is docs/events.md.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_message.hpp"
#include "api/router.hpp"
#include "daemon/security/console_sessions.hpp"
#include "daemon/service/event_bus.hpp"

namespace inkan::api {

inline constexpr std::string_view kEventStreamContentType = "text/event-stream";
/// A comment line every so often keeps the connection and the client's
/// dead-connection detection alive when no event happens.
inline constexpr std::chrono::milliseconds kEventHeartbeatInterval{15'000};
/// How long a client waits before reconnecting (the stream's `retry:` field).
inline constexpr std::chrono::milliseconds kEventRetryDelay{2'000};

/// Register GET /v1/events. `bus` (and `sessions`, when given) must outlive
/// the router. With `sessions`, the console's stream ends with its session.
void registerEventRoutes(Router& router, service::EventBus& bus, security::ConsoleSessions* sessions = nullptr);

/// One event in text/event-stream framing: "id: N\nevent: TYPE\ndata: JSON\n\n".
std::string formatEvent(const service::Event& event);

/// One subscriber's stream. Subscribes on construction (throws Busy when the
/// bus has too many readers), so a refusal is an ordinary problem response.
class EventStream final : public ResponseStream {
public:
    /// `stillAllowed`, when set, is asked before each write: once it says no
    /// (the console's session ended), the stream ends.
    EventStream(service::EventBus& bus, std::optional<std::string_view> lastEventId,
                std::chrono::milliseconds heartbeat = kEventHeartbeatInterval, std::function<bool()> stillAllowed = {});
    ~EventStream() override;

    void start(std::function<void()> wake) override;
    Chunk next(bool idle) override;
    std::chrono::milliseconds idleInterval() const override { return heartbeat_; }
    void stop() noexcept override;

    struct Waker;  // defined in event_stream.cpp

private:
    std::shared_ptr<Waker> waker_;
    std::unique_ptr<service::Subscription> subscription_;
    std::chrono::milliseconds heartbeat_;
    std::function<bool()> stillAllowed_;
    bool resumed_;
    bool started_ = false;
};

}  // namespace inkan::api
