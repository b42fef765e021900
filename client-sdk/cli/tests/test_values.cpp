// Values that cross the API boundary: base64, timestamps, problems, paths.
#include <doctest/doctest.h>

#include "client-sdk/cli/api_client.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/problem.hpp"
#include "client-sdk/cli/timestamps.hpp"

using namespace inkan::cli;

TEST_CASE("base64 round-trips every padding length")
{
    for (std::size_t n = 0; n < 8; ++n) {
        Bytes bytes(n);
        for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(0xF0 + i);
        auto decoded = base64Decode(base64Encode(bytes));
        REQUIRE(decoded.has_value());
        CHECK(*decoded == bytes);
    }
    CHECK(base64Encode(Bytes{'a', 'b'}) == "YWI=");
    CHECK_FALSE(base64Decode("YWJ=").has_value());      // non-canonical: bits the padding discards
}

TEST_CASE("malformed base64 is refused")
{
    CHECK_FALSE(base64Decode("YWI").has_value());       // not a multiple of four
    CHECK_FALSE(base64Decode("Y=WI").has_value());      // padding inside
    CHECK_FALSE(base64Decode("YW I").has_value());      // blank
    CHECK_FALSE(base64Decode("YW-_").has_value());      // URL alphabet
    CHECK_FALSE(base64Decode("Y===").has_value());      // three padding characters
}

TEST_CASE("API timestamps parse as UTC and count whole days")
{
    auto t = parseUtcTimestamp("2026-03-31T14:59:59Z");
    REQUIRE(t.has_value());
    CHECK(*t == 1774969199);
    CHECK_FALSE(parseUtcTimestamp("2026-03-31 14:59:59Z").has_value());
    CHECK_FALSE(parseUtcTimestamp("2026-13-01T00:00:00Z").has_value());
    CHECK(parseUtcTimestamp("2026-03-31T23:59:59+09:00") == t);  // the same instant
    CHECK_FALSE(parseUtcTimestamp("2026-02-30T00:00:00Z").has_value());
    CHECK_FALSE(parseUtcTimestamp("2026-03-31T14:59:59").has_value());  // no offset: no instant
    CHECK(readableTimestamp("2026-03-31T23:59:59+09:00") == "2026-03-31 14:59:59 UTC");
    CHECK(validityText("2026-03-31T14:59:59Z", *t - 10 * 86400) == "10 days left");
    CHECK(validityText("2026-03-31T14:59:59Z", *t - 3600) == "expires today");
    CHECK(validityText("2026-03-31T14:59:59Z", *t + 2 * 86400) == "expired 2 days ago");
    CHECK(readableTimestamp("2026-03-31T14:59:59Z") == "2026-03-31 14:59:59 UTC");
}

TEST_CASE("a wrong PIN reads as tries left before the card locks and exits 4")
{
    Problem problem = Problem::fromResponse(403, R"({"type":"urn:inkan:problem:pin-incorrect","title":"Wrong PIN","status":403,
        "detail":"the card refused the PIN","code":"PIN_INCORRECT","triesLeft":9})");
    CHECK(describe(problem) == "PIN_INCORRECT: wrong PIN — 9 tries left before the card locks");
    CHECK(exitCodeFor(problem) == ExitCode::PinRefused);
    problem.triesLeft = 1;
    CHECK(describe(problem) == "PIN_INCORRECT: wrong PIN — 1 try left before the card locks");
    CHECK_FALSE(hintFor(problem).empty());
}

TEST_CASE("blocked PIN, wrong unblock code and the PIN guard exit 4, other problems 3")
{
    CHECK(exitCodeFor(Problem::fromResponse(423, R"({"code":"PIN_BLOCKED"})")) == ExitCode::PinRefused);
    CHECK(exitCodeFor(Problem::fromResponse(403, R"({"code":"UNBLOCK_CODE_INCORRECT","triesLeft":2})")) == ExitCode::PinRefused);
    CHECK(exitCodeFor(Problem::fromResponse(423, R"({"code":"UNBLOCK_CODE_BLOCKED"})")) == ExitCode::PinRefused);
    Problem guard = Problem::fromResponse(409, R"({"code":"PIN_GUARD","detail":"the last try is kept","triesLeft":1})");
    CHECK(exitCodeFor(guard) == ExitCode::PinRefused);
    CHECK(describe(guard) == "PIN_GUARD: inkand refused to spend a PIN try: the last try is kept (1 try left)");
    CHECK(exitCodeFor(Problem::fromResponse(400, R"({"code":"PIN_FORMAT"})")) == ExitCode::ApiError);
    Problem notFound = Problem::fromResponse(404, R"({"code":"CARD_NOT_FOUND","detail":"no present card with id 00"})");
    CHECK(exitCodeFor(notFound) == ExitCode::ApiError);
    CHECK(describe(notFound) == "CARD_NOT_FOUND: no present card with id 00");
}

TEST_CASE("a card error names the status word; a body that is not JSON still gives a message")
{
    CHECK(describe(Problem::fromResponse(502, R"({"code":"CARD_ERROR","detail":"unexpected answer","statusWord":27266})"))
          == "CARD_ERROR: unexpected answer (status word 6A82)");
    CHECK(describe(Problem::fromResponse(502, R"({"code":"CARD_ERROR","detail":"unexpected answer","statusWord":"6985"})"))
          == "CARD_ERROR: unexpected answer (status word 6985)");
    CHECK(describe(Problem::fromResponse(500, "<html>")) == "HTTP_500: HTTP 500");
}

TEST_CASE("ids typed by the user stay one path segment")
{
    CHECK(pathSegment("sign") == "sign");
    CHECK(pathSegment("0A1B-2c_3.4~") == "0A1B-2c_3.4~");
    CHECK(pathSegment("../status") == "..%2Fstatus");
    CHECK(pathSegment("..") == "%2E%2E");
    CHECK(pathSegment("a?b#c d") == "a%3Fb%23c%20d");
}

TEST_CASE("the low-tries warning follows each PIN's own maximum, as inkand's guard does")
{
    // 30% of the maximum, rounded, at least 1, never all: the last 1 of 3, 2 of 5, 3 of 10.
    CHECK(guardedTries(3) == 1);
    CHECK(guardedTries(5) == 2);
    CHECK(guardedTries(10) == 3);
    CHECK(guardedTries(15) == 5);
    CHECK(guardedTries(2) == 1);
    CHECK(guardedTries(1) == 0);
    CHECK(fewTriesLeft(nlohmann::json{{"triesLeft", 2}, {"maxTries", 5}, {"blocked", false}}));
    CHECK_FALSE(fewTriesLeft(nlohmann::json{{"triesLeft", 3}, {"maxTries", 5}, {"blocked", false}}));
    CHECK_FALSE(fewTriesLeft(nlohmann::json{{"triesLeft", 2}, {"maxTries", 3}, {"blocked", false}}));
    CHECK(fewTriesLeft(nlohmann::json{{"triesLeft", 1}, {"maxTries", 3}, {"blocked", false}}));
    CHECK(fewTriesLeft(nlohmann::json{{"triesLeft", 3}, {"maxTries", 10}, {"blocked", false}}));
    CHECK_FALSE(fewTriesLeft(nlohmann::json{{"triesLeft", 4}, {"maxTries", 10}, {"blocked", false}}));
}

TEST_CASE("a PIN the card cannot unblock: the hint names who resets it, not the unblock code")
{
    Problem blocked = Problem::fromResponse(423, R"({"code":"PIN_BLOCKED"})");
    CHECK(hintFor(blocked).find("inkan pin unblock") != std::string::npos);
    blocked.pinUnblockable = false;
    blocked.pinReset = "only the card's issuer can reset it (for the My Number card: the municipal office, 市区町村の窓口)";
    CHECK(hintFor(blocked).find("municipal office") != std::string::npos);
    CHECK(hintFor(blocked).find("inkan pin unblock") == std::string::npos);
    Problem wrong = Problem::fromResponse(403, R"({"code":"PIN_INCORRECT","triesLeft":1})");
    wrong.pinUnblockable = false;
    wrong.pinReset = blocked.pinReset;
    CHECK(hintFor(wrong).find("municipal office") != std::string::npos);
    CHECK(hintFor(wrong).find("unblock code") == std::string::npos);
}

TEST_CASE("a PIN format reads as its length and alphabet")
{
    CHECK(formatSummary(nlohmann::json{{"minLength", 4}, {"maxLength", 4}, {"alphabet", "digits"}}) == "4 digits");
    CHECK(formatSummary(nlohmann::json{{"minLength", 6}, {"maxLength", 16}, {"alphabet", "upper-alphanumeric"}})
          == "6 to 16 characters A-Z 0-9");
    CHECK(formatSummary(nlohmann::json::object()).empty());
}
