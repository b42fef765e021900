// The event bus (daemon/service/event_bus.*): numbering, the history readers
// resume from, the reset when they cannot, and readers that fall behind.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "daemon/error.hpp"
#include "daemon/service/event_bus.hpp"

using inkan::Error;
using inkan::ErrorCode;
using inkan::service::EventBus;
using inkan::service::EventBusOptions;
using inkan::service::EventPtr;
using inkan::service::Subscription;

namespace {

constexpr std::uint64_t kFirstId = 1000;

EventBusOptions smallBus(std::size_t history = 4, std::size_t queue = 8, std::size_t maxSubscribers = 4)
{
    EventBusOptions options;
    options.history = history;
    options.subscriberQueue = queue;
    options.maxSubscribers = maxSubscribers;
    options.firstId = kFirstId;
    return options;
}

std::vector<std::uint64_t> idsOf(const std::vector<EventPtr>& events)
{
    std::vector<std::uint64_t> ids;
    for (const auto& event : events) ids.push_back(event->id);
    return ids;
}

void publishN(EventBus& bus, int count)
{
    for (int i = 0; i < count; ++i) bus.publish("reader-added", {{"reader", "Reader " + std::to_string(i)}});
}

}  // namespace

TEST_SUITE("event bus")
{
    TEST_CASE("events are numbered one by one from the first id and carry their payload as one line of JSON")
    {
        EventBus bus(smallBus());
        CHECK(bus.lastId() == kFirstId - 1);
        auto reader = bus.subscribe(std::nullopt, {});

        CHECK(bus.publish("card-removed", {{"reader", "R 00"}, {"note", "two\nlines"}}) == kFirstId);
        CHECK(bus.publish("pcsc-available", nlohmann::json::object()) == kFirstId + 1);

        const auto batch = reader->take();
        REQUIRE(batch.events.size() == 2);
        CHECK(batch.events[0]->type == "card-removed");
        CHECK(batch.events[0]->data == R"({"reader":"R 00","note":"two\nlines"})");
        CHECK(batch.events[1]->data == "{}");
        CHECK(batch.end == Subscription::End::None);
        CHECK(bus.lastId() == kFirstId + 1);
    }

    TEST_CASE("text that is not UTF-8 is replaced instead of breaking the event")
    {
        EventBus bus(smallBus());
        auto reader = bus.subscribe(std::nullopt, {});
        bus.publish("reader-added", {{"reader", std::string("bad \xFF name")}});
        const auto batch = reader->take();
        REQUIRE(batch.events.size() == 1);
        CHECK(batch.events[0]->data == "{\"reader\":\"bad \xEF\xBF\xBD name\"}");
    }

    TEST_CASE("a new reader gets only what is published after it subscribed, and learns where it starts")
    {
        EventBus bus(smallBus());
        publishN(bus, 2);
        auto reader = bus.subscribe(std::nullopt, {});
        CHECK(reader->startId() == kFirstId + 1);
        CHECK(reader->take().events.empty());

        publishN(bus, 1);
        CHECK(idsOf(reader->take().events) == std::vector<std::uint64_t>{kFirstId + 2});
        CHECK(reader->take().events.empty());  // taken once
    }

    TEST_CASE("a reader that resumes from an id in the history gets exactly the events after it, in order")
    {
        EventBus bus(smallBus(/*history=*/4));
        publishN(bus, 5);  // ids 1000..1004; the history holds 1001..1004

        auto resumed = bus.subscribe(std::to_string(kFirstId + 2), {});
        CHECK(idsOf(resumed->take().events) == std::vector<std::uint64_t>{kFirstId + 3, kFirstId + 4});

        // The oldest kept event's predecessor is still a place to resume from.
        auto fromEdge = bus.subscribe(std::to_string(kFirstId), {});
        CHECK(idsOf(fromEdge->take().events) ==
              std::vector<std::uint64_t>{kFirstId + 1, kFirstId + 2, kFirstId + 3, kFirstId + 4});

        auto upToDate = bus.subscribe(std::to_string(kFirstId + 4), {});
        CHECK(upToDate->take().events.empty());

        publishN(bus, 1);
        CHECK(idsOf(resumed->take().events) == std::vector<std::uint64_t>{kFirstId + 5});
    }

    TEST_CASE("a reader that resumes from before the history gets a reset carrying the latest id")
    {
        EventBus bus(smallBus(/*history=*/4));
        publishN(bus, 6);  // ids 1000..1005; the history holds 1002..1005

        auto reader = bus.subscribe(std::to_string(kFirstId), {});
        const auto batch = reader->take();
        REQUIRE(batch.events.size() == 1);
        CHECK(batch.events[0]->type == "reset");
        CHECK(batch.events[0]->id == kFirstId + 5);
        CHECK(batch.events[0]->data == R"({"reason":"expired"})");

        // An id from an earlier run of the daemon is smaller still.
        auto fromEarlierRun = bus.subscribe("17", {});
        CHECK(fromEarlierRun->take().events.at(0)->data == R"({"reason":"expired"})");

        // The reset is for that reader only: it is not part of the history.
        auto other = bus.subscribe(std::to_string(kFirstId + 4), {});
        CHECK(idsOf(other->take().events) == std::vector<std::uint64_t>{kFirstId + 5});
    }

    TEST_CASE("an id the bus never handed out, or no number at all, gets a reset")
    {
        EventBus bus(smallBus());
        publishN(bus, 2);
        for (const char* bad : {"1002", "99999999999999999999", "18446744073709551616", "1000 ", "-1", "", "abc", "1e3"}) {
            CAPTURE(bad);
            auto reader = bus.subscribe(std::string_view(bad), {});
            const auto events = reader->take().events;
            REQUIRE(events.size() == 1);
            CHECK(events[0]->type == "reset");
            CHECK(events[0]->id == kFirstId + 1);
            CHECK(events[0]->data == R"({"reason":"invalid"})");
        }
    }

    TEST_CASE("before any event, resuming from the id a new reader was given loses nothing")
    {
        EventBus bus(smallBus());
        auto first = bus.subscribe(std::nullopt, {});
        const auto start = first->startId();
        CHECK(start == kFirstId - 1);

        auto resumed = bus.subscribe(std::to_string(start), {});
        CHECK(resumed->take().events.empty());
        publishN(bus, 1);
        CHECK(idsOf(resumed->take().events) == std::vector<std::uint64_t>{kFirstId});
    }

    TEST_CASE("a reader that lets its queue fill up is dropped; publishing goes on for the others")
    {
        EventBus bus(smallBus(/*history=*/16, /*queue=*/3));
        auto slow = bus.subscribe(std::nullopt, {});
        auto quick = bus.subscribe(std::nullopt, {});

        for (int i = 0; i < 5; ++i) {
            publishN(bus, 1);
            CHECK(quick->take().events.size() == 1);
        }

        const auto batch = slow->take();
        CHECK(idsOf(batch.events) == std::vector<std::uint64_t>{kFirstId, kFirstId + 1, kFirstId + 2});
        CHECK(batch.end == Subscription::End::Overflow);
        CHECK(bus.subscriberCount() == 1);

        // It can come back and resume where its last delivered event was.
        auto again = bus.subscribe(std::to_string(kFirstId + 2), {});
        CHECK(idsOf(again->take().events) == std::vector<std::uint64_t>{kFirstId + 3, kFirstId + 4});
    }

    TEST_CASE("publishing wakes every reader, outside the bus's lock, and never waits for one")
    {
        EventBus bus(smallBus(16, 1000));
        std::atomic<int> wakes{0};
        std::unique_ptr<Subscription> reader;
        // A wake-up that reads right away would deadlock if it ran under the lock.
        reader = bus.subscribe(std::nullopt, [&] {
            ++wakes;
            (void)reader->take();
        });
        auto idle = bus.subscribe(std::nullopt, [] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); });

        std::thread publisher([&] { publishN(bus, 10); });
        publisher.join();
        CHECK(wakes == 10);
        CHECK(idle->take().events.size() == 10);
    }

    TEST_CASE("too many readers are refused with Busy")
    {
        EventBus bus(smallBus(4, 8, /*maxSubscribers=*/2));
        auto a = bus.subscribe(std::nullopt, {});
        auto b = bus.subscribe(std::nullopt, {});
        try {
            (void)bus.subscribe(std::nullopt, {});
            FAIL("a third reader was accepted");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::Busy);
        }
        b.reset();  // a reader that leaves makes room
        CHECK(bus.subscriberCount() == 1);
        CHECK_NOTHROW((void)bus.subscribe(std::nullopt, {}));
    }

    TEST_CASE("closing the bus ends every reader and refuses new ones")
    {
        EventBus bus(smallBus());
        std::atomic<int> wakes{0};
        auto reader = bus.subscribe(std::nullopt, [&] { ++wakes; });
        bus.close();
        CHECK(wakes == 1);
        CHECK(reader->take().end == Subscription::End::Closed);
        CHECK_THROWS_AS((void)bus.subscribe(std::nullopt, {}), Error);
    }

    TEST_CASE("a subscription may outlive its bus")
    {
        std::unique_ptr<Subscription> reader;
        {
            EventBus bus(smallBus());
            reader = bus.subscribe(std::nullopt, {});
        }
        CHECK(reader->take().end == Subscription::End::Closed);
        reader.reset();
    }

    TEST_CASE("ids of a later run are larger than those of an earlier one and exact in JavaScript")
    {
        using namespace std::chrono;
        const auto now = system_clock::now();
        const auto first = inkan::service::firstIdFor(now);
        // A run that published a million events in its first second still stays below the next second's run.
        CHECK(first + 1'000'000 < inkan::service::firstIdFor(now + seconds(1)));
        CHECK(first < (std::uint64_t{1} << 53));
        const auto year2200 = system_clock::time_point(seconds(7'258'118'400));
        CHECK(inkan::service::firstIdFor(year2200) < (std::uint64_t{1} << 53));
        CHECK(EventBus().lastId() + 1 >= first);
    }
}
