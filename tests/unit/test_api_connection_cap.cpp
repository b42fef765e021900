// The connection cap's rule (api/connection_cap.hpp): who gives way when the
// server is full. The server's own tests hold real sockets open.
#include <doctest/doctest.h>

#include <vector>

#include "api/connection_cap.hpp"

using namespace inkan::api;
using namespace std::chrono_literals;

namespace {

const auto kStart = std::chrono::steady_clock::time_point{} + 1h;

OpenConnection pending(std::chrono::seconds at) { return {kStart + at, false}; }
OpenConnection established(std::chrono::seconds at) { return {kStart + at, true}; }

CapDecision decide(const std::vector<OpenConnection>& open, std::size_t max = 4, std::size_t reserved = 1)
{
    return decideAdmission(open, max, reserved);
}

}  // namespace

TEST_SUITE("api connection cap")
{
    TEST_CASE("with room, the newcomer is admitted and nobody is closed")
    {
        CHECK(decide({}).kind == CapDecision::Kind::Admit);
        CHECK(decide({pending(1s), established(2s)}).kind == CapDecision::Kind::Admit);
        CHECK(decide({established(1s), established(2s), established(3s)}).kind == CapDecision::Kind::Admit);
    }

    TEST_CASE("when full, the oldest connection that has sent no request gives way")
    {
        // The order of the list is not the order of arrival.
        const auto decision = decide({pending(3s), pending(1s), pending(2s), pending(4s)});
        CHECK(decision.kind == CapDecision::Kind::EvictAndAdmit);
        CHECK(decision.victim == 1);
    }

    TEST_CASE("an older connection that has sent a request stays; the oldest pending one goes")
    {
        const auto decision = decide({established(1s), pending(5s), established(2s), pending(3s)});
        CHECK(decision.kind == CapDecision::Kind::EvictAndAdmit);
        CHECK(decision.victim == 3);
    }

    TEST_CASE("pending connections never take the reserved slots")
    {
        // Three pending of at most 4 - 1: the newcomer would be a fourth.
        const auto decision = decide({pending(2s), pending(1s), pending(3s)});
        CHECK(decision.kind == CapDecision::Kind::EvictAndAdmit);
        CHECK(decision.victim == 1);
        // With eight slots and two reserved, five pending leave room for a sixth.
        CHECK(decide({pending(1s), pending(2s), pending(3s), pending(4s), pending(5s)}, 8, 2).kind ==
              CapDecision::Kind::Admit);
        CHECK(decide({pending(1s), pending(2s), pending(3s), pending(4s), pending(5s), pending(6s)}, 8, 2).kind ==
              CapDecision::Kind::EvictAndAdmit);
    }

    TEST_CASE("when every slot serves a client, the newcomer is refused")
    {
        CHECK(decide({established(1s), established(2s), established(3s), established(4s)}).kind ==
              CapDecision::Kind::Refuse);
    }

    TEST_CASE("a reserve as large as the cap still lets one pending connection in")
    {
        CHECK(decide({}, 2, 5).kind == CapDecision::Kind::Admit);
        const auto decision = decide({pending(1s)}, 2, 5);
        CHECK(decision.kind == CapDecision::Kind::EvictAndAdmit);
        CHECK(decision.victim == 0);
    }
}
