// GET /v1/events as the API serves it (api/event_stream.*): the gate in front
// of it, the text/event-stream framing, resuming, heartbeats and the end of a
// stream. The server's side of streaming is covered in test_api_server.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/event_stream.hpp"
#include "daemon/error.hpp"
#include "tests/unit/api_serve.hpp"
#include "tests/unit/no_cards_agent.hpp"

using namespace inkan;
using namespace inkan::api;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kPort = 24713;
constexpr std::string_view kToken = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
constexpr std::string_view kPortal = "https://portal.example";
constexpr std::uint64_t kFirstId = 500;

service::EventBusOptions busOptions()
{
    service::EventBusOptions options;
    options.history = 8;
    options.subscriberQueue = 4;
    options.maxSubscribers = 2;
    options.firstId = kFirstId;
    return options;
}

struct Fixture {
    test::NoCards agent{false};
    service::EventBus bus{busOptions()};
    std::unique_ptr<Api> api;

    Fixture()
    {
        GateOptions gate;
        gate.port = kPort;
        gate.token = Secret(kToken);
        gate.allowedOrigins = {std::string(kPortal)};
        api = std::make_unique<Api>(agent, std::move(gate), "test", &bus);
    }

    static Request eventsRequest()
    {
        Request request;
        request.method = "GET";
        request.target = "/v1/events";
        request.headers.add("Host", "127.0.0.1:" + std::to_string(kPort));
        return request;
    }

    static Request withToken(Request request)
    {
        request.headers.add("Authorization", "Bearer " + std::string(kToken));
        return request;
    }

    Response serve(const Request& request) { return test::serveOnce(*api, request); }
};

}  // namespace

TEST_SUITE("event stream")
{
    TEST_CASE("one event is framed as id, event and data lines ending in a blank line")
    {
        service::Event event;
        event.id = 42;
        event.type = "card-inserted";
        event.data = R"({"reader":"R 00","cardId":"AB"})";
        CHECK(formatEvent(event) == "id: 42\nevent: card-inserted\ndata: {\"reader\":\"R 00\",\"cardId\":\"AB\"}\n\n");
    }

    TEST_CASE("GET /v1/events with the token answers a text/event-stream that starts with retry and the current id")
    {
        Fixture f;
        f.bus.publish("pcsc-available", nlohmann::json::object());
        const Response response = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        CHECK(response.status == 200);
        CHECK(response.contentType == "text/event-stream");
        REQUIRE(response.stream);
        CHECK(response.headers.get("Cache-Control") == "no-store");  // sealed like every answer

        std::atomic<int> wakes{0};
        response.stream->start([&] { ++wakes; });
        auto chunk = response.stream->next(false);
        CHECK(chunk.data == "retry: 2000\nid: 500\n\n");
        CHECK_FALSE(chunk.end);

        f.bus.publish("reader-added", {{"reader", "R 00"}});
        CHECK(wakes == 1);
        chunk = response.stream->next(false);
        CHECK(chunk.data == "id: 501\nevent: reader-added\ndata: {\"reader\":\"R 00\"}\n\n");
        CHECK(response.stream->next(false).data.empty());
        response.stream->stop();
    }

    TEST_CASE("a quiet stream says ': heartbeat' when the server finds it idle")
    {
        Fixture f;
        const Response response = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        REQUIRE(response.stream);
        CHECK(response.stream->idleInterval() == 15s);
        response.stream->start([] {});
        (void)response.stream->next(false);
        CHECK(response.stream->next(false).data.empty());
        CHECK(response.stream->next(true).data == ": heartbeat\n\n");
        response.stream->stop();
    }

    TEST_CASE("Last-Event-ID resumes after that event; an unknown one gets a reset")
    {
        Fixture f;
        for (int i = 0; i < 3; ++i) f.bus.publish("reader-added", {{"reader", std::to_string(i)}});  // 500..502

        Request resume = Fixture::withToken(Fixture::eventsRequest());
        resume.headers.add("Last-Event-ID", "501");
        Response response = f.serve(resume);
        REQUIRE(response.stream);
        response.stream->start([] {});
        CHECK(response.stream->next(false).data == "retry: 2000\n\nid: 502\nevent: reader-added\ndata: {\"reader\":\"2\"}\n\n");
        response.stream->stop();

        Request unknown = Fixture::withToken(Fixture::eventsRequest());
        unknown.headers.add("Last-Event-ID", "9");
        response = f.serve(unknown);
        REQUIRE(response.stream);
        response.stream->start([] {});
        CHECK(response.stream->next(false).data == "retry: 2000\n\nid: 502\nevent: reset\ndata: {\"reason\":\"expired\"}\n\n");
        response.stream->stop();
    }

    TEST_CASE("a reader that falls behind gets what was queued, then the stream ends")
    {
        Fixture f;
        Response response = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        REQUIRE(response.stream);
        response.stream->start([] {});
        (void)response.stream->next(false);
        for (int i = 0; i < 5; ++i) f.bus.publish("reader-added", {{"reader", std::to_string(i)}});  // queue holds 4
        const auto chunk = response.stream->next(false);
        CHECK(chunk.end);
        CHECK(chunk.data.find("id: 503\n") != std::string::npos);
        CHECK(chunk.data.find("id: 504\n") == std::string::npos);
        CHECK(f.bus.subscriberCount() == 0);
        response.stream->stop();
    }

    TEST_CASE("a stream that stops unsubscribes, and a closed bus ends the stream")
    {
        Fixture f;
        Response first = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        REQUIRE(first.stream);
        CHECK(f.bus.subscriberCount() == 1);
        first.stream->stop();
        CHECK(f.bus.subscriberCount() == 0);

        Response second = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        REQUIRE(second.stream);
        second.stream->start([] {});
        (void)second.stream->next(false);
        f.bus.close();
        CHECK(second.stream->next(false).end);
        second.stream->stop();
    }

    TEST_CASE("the event stream is behind the gate: no token is UNAUTHORIZED, a foreign origin ORIGIN_FORBIDDEN")
    {
        Fixture f;
        Response response = f.serve(Fixture::eventsRequest());
        CHECK(response.status == 401);
        CHECK(test::problemCodeOf(response) == "UNAUTHORIZED");
        CHECK_FALSE(response.stream);

        Request foreign = Fixture::eventsRequest();
        foreign.headers.add("Origin", "https://evil.example");
        response = f.serve(foreign);
        CHECK(response.status == 403);
        CHECK(test::problemCodeOf(response) == "ORIGIN_FORBIDDEN");
        CHECK(f.bus.subscriberCount() == 0);

        Request portal = Fixture::eventsRequest();
        portal.headers.add("Origin", kPortal);
        response = f.serve(portal);
        CHECK(response.status == 200);
        CHECK(response.headers.get("Access-Control-Allow-Origin") == kPortal);
        REQUIRE(response.stream);
        response.stream->stop();
    }

    TEST_CASE("the console's stream ends when its session does")
    {
        Fixture f;
        const Gate& gate = f.api->gate();
        const auto session = gate.consoleSessions().redeem(gate.consoleSessions().issueCode().code.view());
        REQUIRE(session.has_value());
        Request console = Fixture::eventsRequest();
        console.headers.add("Cookie", gate.sessionCookieName() + "=" + std::string(session->value.view()));
        const Response response = f.serve(console);
        REQUIRE(response.status == 200);
        REQUIRE(response.stream);
        response.stream->start([] {});
        CHECK_FALSE(response.stream->next(false).end);
        CHECK_FALSE(response.stream->next(true).end);
        CHECK(gate.consoleSessions().revoke(session->id));
        CHECK(response.stream->next(true).end);
        CHECK(f.bus.subscriberCount() == 0);
        response.stream->stop();
    }

    TEST_CASE("too many readers are refused with BUSY, a repeated Last-Event-ID with BAD_REQUEST")
    {
        Fixture f;
        Response a = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        Response b = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        Response c = f.serve(Fixture::withToken(Fixture::eventsRequest()));
        CHECK(c.status == 503);
        CHECK(test::problemCodeOf(c) == "BUSY");

        Request twice = Fixture::withToken(Fixture::eventsRequest());
        twice.headers.add("Last-Event-ID", "500");
        twice.headers.add("Last-Event-ID", "501");
        const Response refused = f.serve(twice);
        CHECK(refused.status == 400);
        CHECK(test::problemCodeOf(refused) == "BAD_REQUEST");
        a.stream->stop();
        b.stream->stop();
    }
}
