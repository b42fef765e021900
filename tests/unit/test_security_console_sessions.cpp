// The console's login codes and sessions (daemon/security/console_sessions.*):
// single use, expiry by a clock the test moves, idle and absolute limits,
// revocation, and the size of what is drawn.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "daemon/security/console_sessions.hpp"

using namespace inkan;
using namespace inkan::security;
using namespace std::chrono_literals;

namespace {

/// A clock the test moves by hand.
struct ManualClock {
    ConsoleSessions::Clock::time_point now{std::chrono::hours(1000)};
};

ConsoleSessions storeWith(ManualClock& clock)
{
    ConsoleSessionOptions options;
    options.now = [&clock] { return clock.now; };
    return ConsoleSessions(std::move(options));
}

bool isLowerHex(std::string_view text)
{
    return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

TEST_SUITE("console sessions")
{
    TEST_CASE("a login code is 128 random bits, lasts at most 60 seconds and works once")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const LoginCode code = sessions.issueCode();
        CHECK(code.code.size() == 32);
        CHECK(isLowerHex(code.code.view()));
        CHECK(code.expiresIn == 60s);

        const auto session = sessions.redeem(code.code.view());
        REQUIRE(session.has_value());
        CHECK(session->value.size() == 32);
        CHECK(isLowerHex(session->value.view()));
        CHECK(session->id.size() == 32);
        CHECK(session->id != session->value.view());
        CHECK(sessions.identify(session->value.view()) == session->id);

        // Spent: a second trade of the same code gets nothing.
        CHECK_FALSE(sessions.redeem(code.code.view()).has_value());
    }

    TEST_CASE("codes and sessions differ every time")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        std::set<std::string> seen;
        for (int i = 0; i < 6; ++i) {
            const LoginCode code = sessions.issueCode();
            const auto session = sessions.redeem(code.code.view());
            REQUIRE(session.has_value());
            CHECK(seen.insert(std::string(code.code.view())).second);
            CHECK(seen.insert(std::string(session->value.view())).second);
            CHECK(seen.insert(session->id).second);
        }
    }

    TEST_CASE("a code expires after 60 seconds, unused")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const LoginCode late = sessions.issueCode();
        const LoginCode inTime = sessions.issueCode();
        clock.now += 59s;
        CHECK(sessions.redeem(inTime.code.view()).has_value());
        clock.now += 1s;
        CHECK_FALSE(sessions.redeem(late.code.view()).has_value());
    }

    TEST_CASE("unknown, truncated, extended and empty codes get nothing")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const LoginCode code = sessions.issueCode();
        const std::string value(code.code.view());
        for (const std::string& wrong : {std::string(), value.substr(0, 31), value + "0", std::string(32, '0'),
                                         std::string(value.rbegin(), value.rend())}) {
            CAPTURE(wrong);
            CHECK_FALSE(sessions.redeem(wrong).has_value());
        }
        // Wrong guesses do not spend the real code.
        CHECK(sessions.redeem(value).has_value());
    }

    TEST_CASE("a session ends after 30 minutes without a request, and requests keep it alive")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const auto busy = sessions.redeem(sessions.issueCode().code.view());
        const auto idle = sessions.redeem(sessions.issueCode().code.view());
        REQUIRE(busy.has_value());
        REQUIRE(idle.has_value());
        for (int i = 0; i < 4; ++i) {
            clock.now += 20min;
            CHECK(sessions.identify(busy->value.view()) == busy->id);
        }
        CHECK_FALSE(sessions.identify(idle->value.view()).has_value());
        // Once gone, gone: activity afterwards does not bring it back.
        clock.now -= 80min;
        CHECK_FALSE(sessions.identify(idle->value.view()).has_value());
    }

    TEST_CASE("a session ends after 12 hours however busy")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const auto session = sessions.redeem(sessions.issueCode().code.view());
        REQUIRE(session.has_value());
        for (int i = 0; i < 12 * 4 - 1; ++i) {
            clock.now += 15min;
            REQUIRE(sessions.identify(session->value.view()).has_value());
        }
        clock.now += 15min;
        CHECK_FALSE(sessions.identify(session->value.view()).has_value());
    }

    TEST_CASE("a revoked session is over; others go on")
    {
        ManualClock clock;
        ConsoleSessions sessions = storeWith(clock);
        const auto first = sessions.redeem(sessions.issueCode().code.view());
        const auto second = sessions.redeem(sessions.issueCode().code.view());
        REQUIRE(first.has_value());
        REQUIRE(second.has_value());
        CHECK(sessions.revoke(first->id));
        CHECK_FALSE(sessions.revoke(first->id));
        CHECK_FALSE(sessions.identify(first->value.view()).has_value());
        CHECK(sessions.identify(second->value.view()) == second->id);
        // The public id is not the cookie: presenting it gets nothing.
        CHECK_FALSE(sessions.identify(second->id).has_value());
    }

    TEST_CASE("a new store (inkand restarted) knows no earlier session")
    {
        ManualClock clock;
        ConsoleSessions before = storeWith(clock);
        const auto session = before.redeem(before.issueCode().code.view());
        REQUIRE(session.has_value());
        ConsoleSessions after = storeWith(clock);
        CHECK_FALSE(after.identify(session->value.view()).has_value());
    }

    TEST_CASE("only so many codes and sessions are kept: the oldest go first")
    {
        ManualClock clock;
        ConsoleSessionOptions options;
        options.now = [&clock] { return clock.now; };
        options.maxCodes = 2;
        options.maxSessions = 2;
        ConsoleSessions sessions(std::move(options));
        const LoginCode first = sessions.issueCode();
        const LoginCode second = sessions.issueCode();
        const LoginCode third = sessions.issueCode();
        CHECK_FALSE(sessions.redeem(first.code.view()).has_value());

        const auto a = sessions.redeem(second.code.view());
        clock.now += 1s;
        const auto b = sessions.redeem(third.code.view());
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        clock.now += 1s;
        CHECK(sessions.identify(a->value.view()).has_value());  // a is now the more recently used
        const auto c = sessions.redeem(sessions.issueCode().code.view());
        REQUIRE(c.has_value());
        CHECK_FALSE(sessions.identify(b->value.view()).has_value());
        CHECK(sessions.identify(a->value.view()).has_value());
        CHECK(sessions.identify(c->value.view()).has_value());
    }
}
