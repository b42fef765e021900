// inkan — the daemon's event stream: readers and cards coming and going, PIN
// state, certificate expiry, as numbered events that any number of readers
// follow (GET /v1/events; docs/events.md).
//
//   auto bus = std::make_shared<inkan::service::EventBus>();
//   bus->publish("card-removed", {{"reader", name}});              // any thread
//   auto subscription = bus->subscribe(lastEventId, [] { wake(); }); // a reader
//   auto batch = subscription->take();                               // after wake()
//
// Publishing never waits for a reader: each reader has a bounded queue, and a
// reader that lets it fill up is dropped (its subscription ends, it may
// reconnect and resume). The bus keeps the latest events in a ring so that a
// reader that reconnects with the id it saw last gets what it missed, or a
// `reset` event when that is no longer possible.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace inkan::service {

/// The event types (docs/events.md has their payloads).
namespace event_type {
inline constexpr std::string_view kPcscAvailable = "pcsc-available";
inline constexpr std::string_view kPcscUnavailable = "pcsc-unavailable";
inline constexpr std::string_view kReaderAdded = "reader-added";
inline constexpr std::string_view kReaderRemoved = "reader-removed";
inline constexpr std::string_view kCardInserted = "card-inserted";
inline constexpr std::string_view kCardRemoved = "card-removed";
inline constexpr std::string_view kPinStatus = "pin-status";
inline constexpr std::string_view kPinBlocked = "pin-blocked";
inline constexpr std::string_view kCertificateExpiring = "certificate-expiring";
inline constexpr std::string_view kCertificateExpired = "certificate-expired";
/// Sent to one reader only, never stored: the events it asked to resume
/// from are gone, so it must read the current state again.
inline constexpr std::string_view kReset = "reset";
}  // namespace event_type

/// One event. Immutable once published, shared by every reader's queue.
struct Event {
    std::uint64_t id = 0;
    std::string type;  // one of event_type
    std::string data;  // the payload as compact JSON: one line, UTF-8
};

using EventPtr = std::shared_ptr<const Event>;

struct EventBusOptions {
    /// How many of the latest events are kept for readers that resume.
    std::size_t history = 256;
    /// Events one reader may have waiting; one more and it is dropped.
    std::size_t subscriberQueue = 256;
    /// Readers at a time; beyond that subscribe() throws Busy.
    std::size_t maxSubscribers = 32;
    /// The id of the first event. 0: derived from the clock (see firstIdFor),
    /// so that ids keep increasing across daemon restarts and an id from an
    /// earlier run can never be mistaken for one of this run.
    std::uint64_t firstId = 0;
};

/// The first event id of a bus created at `now`: the seconds since the epoch
/// times 2^20. A run would have to publish over a million events per second
/// of its uptime to reach the ids of the next run; the ids stay below 2^53
/// (exact in JavaScript numbers) until the year 2242.
std::uint64_t firstIdFor(std::chrono::system_clock::time_point now);

class EventBus;

/// One reader's place in the stream. Thread-safe; ends (unsubscribes) when destroyed.
class Subscription {
public:
    enum class End {
        None,      // still receiving
        Overflow,  // the reader fell too far behind and was dropped
        Closed,    // the bus closed (the daemon stops)
    };

    struct Batch {
        std::vector<EventPtr> events;  // in id order
        End end = End::None;           // set once the subscription is over; no event follows
    };

    /// Everything waiting now (possibly nothing). Never blocks.
    Batch take();

    /// The latest event's id when the subscription began: a reader that
    /// resumes from it misses nothing this subscription delivers.
    std::uint64_t startId() const noexcept { return startId_; }

    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    struct State;  // shared with the bus; defined in event_bus.cpp

private:
    friend class EventBus;
    Subscription(std::shared_ptr<State> state, std::uint64_t startId) : state_(std::move(state)), startId_(startId) {}
    std::shared_ptr<State> state_;
    std::uint64_t startId_;
};

class EventBus {
public:
    explicit EventBus(EventBusOptions options = {});
    ~EventBus();
    EventBus(const EventBus&) = delete;
    EventBus& operator=(const EventBus&) = delete;

    /// Number the event, keep it in the history and queue it for every reader.
    /// Never blocks on a reader. Wake-ups run on the calling thread after the
    /// bus's lock is released; they must only schedule work. Returns the id.
    std::uint64_t publish(std::string_view type, const nlohmann::ordered_json& payload);

    /// A new reader. `lastEventId` is the Last-Event-ID it sent, if any:
    ///   * absent: only events published from now on;
    ///   * the id of an event still in the history (or the latest id): the
    ///     events after it, then the new ones;
    ///   * anything else (too old, from another run, not a number): one
    ///     `reset` event carrying the latest id, then the new ones.
    /// `wake` is called, from any thread, whenever take() has something new.
    /// Throws inkan::Error(Busy) when maxSubscribers readers are connected.
    std::unique_ptr<Subscription> subscribe(std::optional<std::string_view> lastEventId, std::function<void()> wake);

    /// End every subscription (End::Closed) and refuse new ones with Busy.
    void close();

    /// The id of the latest event (firstId - 1 before the first).
    std::uint64_t lastId() const;
    std::size_t subscriberCount() const;

    struct Shared;  // defined in event_bus.cpp

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace inkan::service
