// `inkan events`: the text/event-stream parser and the words for each event.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "client-sdk/cli/event_stream.hpp"

using inkan::cli::describeEvent;
using inkan::cli::EventStreamParser;
using inkan::cli::eventAsJsonLine;
using inkan::cli::StreamEvent;

namespace {

struct Collected {
    std::vector<StreamEvent> events;
    EventStreamParser parser{[this](const StreamEvent& event) { events.push_back(event); }};
};

const std::string kStream =
    "retry: 2000\nid: 7\n\n"
    "id: 8\nevent: card-removed\ndata: {\"reader\":\"R 00\",\"cardId\":\"AB\"}\n\n"
    ": heartbeat\n\n"
    "id: 9\nevent: pin-status\ndata: {\"cardId\":\"AB\",\"triesLeft\":9}\n\n";

}  // namespace

TEST_CASE("events are parsed whatever the split of the bytes")
{
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{17}, kStream.size()}) {
        CAPTURE(piece);
        Collected c;
        for (std::size_t at = 0; at < kStream.size(); at += piece) CHECK(c.parser.feed(std::string_view(kStream).substr(at, piece)));
        REQUIRE(c.events.size() == 2);
        CHECK(c.events[0].id == "8");
        CHECK(c.events[0].type == "card-removed");
        CHECK(c.events[0].data == R"({"reader":"R 00","cardId":"AB"})");
        CHECK(c.events[1].id == "9");
        CHECK(c.events[1].type == "pin-status");
        CHECK(c.parser.lastEventId() == "9");
        CHECK(c.parser.retryMilliseconds() == 2000);
        CHECK(c.parser.comments() == 1);
    }
}

TEST_CASE("a block with an id and no data sets the id to resume from without an event")
{
    Collected c;
    c.parser.feed("retry: 2000\nid: 123\n\n");
    CHECK(c.events.empty());
    CHECK(c.parser.lastEventId() == "123");
}

TEST_CASE("CRLF lines, several data lines and a missing type follow the standard")
{
    Collected c;
    c.parser.feed("data: a\r\ndata: b\r\n\r\n");
    REQUIRE(c.events.size() == 1);
    CHECK(c.events[0].type == "message");
    CHECK(c.events[0].data == "a\nb");
    CHECK(c.events[0].id.empty());
}

TEST_CASE("a line longer than any of inkand's ends the parsing")
{
    Collected c;
    CHECK_FALSE(c.parser.feed(std::string(EventStreamParser::kMaxLineLength + 1, 'x')));
    CHECK_FALSE(c.parser.feed("data: {}\n\n"));
    CHECK(c.events.empty());
}

TEST_CASE("each event type reads as a sentence")
{
    using nlohmann::json;
    CHECK(describeEvent("card-inserted", json{{"reader", "R 00"}, {"supported", true}, {"cardId", "AB"}, {"label", "印鑑 太郎"}}) ==
          "card AB inserted in 'R 00': 印鑑 太郎");
    CHECK(describeEvent("card-inserted", json{{"reader", "R 00"}, {"supported", false}, {"atr", "3B00"}}) ==
          "unsupported card inserted in 'R 00' (ATR 3B00)");
    CHECK(describeEvent("card-removed", json{{"reader", "R 00"}}) == "card removed from 'R 00'");
    CHECK(describeEvent("pin-status", json{{"cardId", "AB"}, {"operation", "verify"}, {"triesLeft", 9}, {"maxTries", 10}, {"blocked", false}}) ==
          "card AB: PIN: 9 of 10 tries left (after verify)");
    CHECK(describeEvent("pin-status", json{{"cardId", "AB"}, {"operation", "verify"}, {"triesLeft", 0}, {"maxTries", 10}, {"blocked", true}}) ==
          "card AB: PIN blocked (after verify)");
    CHECK(describeEvent("pin-blocked", json{{"cardId", "AB"}}).find("BLOCKED") != std::string::npos);
    CHECK(describeEvent("certificate-expiring", json{{"cardId", "AB"}, {"certificateId", "sign"}, {"notAfter", "2027-01-01T00:00:00Z"}, {"daysLeft", 1}})
              .find("expires in 1 day (2027-01-01T00:00:00Z)") != std::string::npos);
    CHECK(describeEvent("certificate-expired", json{{"cardId", "AB"}, {"certificateId", "sign"}, {"notAfter", "x"}, {"daysLeft", -4}})
              .find("EXPIRED 4 days ago") != std::string::npos);
    CHECK(describeEvent("something-new", json{{"a", 1}}) == "something-new {\"a\":1}");
}

TEST_CASE("--json prints one object per event with a numeric id and the data as JSON")
{
    CHECK(eventAsJsonLine(StreamEvent{"42", "card-removed", R"({"reader":"R"})"}) ==
          R"({"id":42,"type":"card-removed","data":{"reader":"R"}})");
    CHECK(eventAsJsonLine(StreamEvent{"", "message", "not json"}) == R"({"id":"","type":"message","data":"not json"})");
}
