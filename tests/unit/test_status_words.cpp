// The one status-word translation point (daemon/card/status_words.*).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>

#include "daemon/card/status_words.hpp"
#include "daemon/error.hpp"

using inkan::Error;
using inkan::ErrorCode;
using inkan::card::CardCommand;
using inkan::card::checkStatusWord;
using inkan::card::pinStatusFromStatusWord;

namespace {

// The error checkStatusWord throws for `sw` after `command` (REQUIREs one).
Error errorFor(std::uint16_t sw, CardCommand command)
{
    try {
        checkStatusWord(sw, command);
    } catch (const Error& e) {
        return e;
    }
    FAIL("no error for status word ", sw);
    return Error(ErrorCode::Internal, "unreachable");
}

constexpr int kMaxTries = 10;

}  // namespace

TEST_SUITE("checkStatusWord")
{
    TEST_CASE("9000 is success after every command")
    {
        for (const auto command : {CardCommand::Select, CardCommand::ReadBinary, CardCommand::VerifyPin,
                                   CardCommand::ChangePin, CardCommand::UnblockPin,
                                   CardCommand::ManageSecurityEnvironment, CardCommand::ComputeSignature}) {
            CHECK_NOTHROW(checkStatusWord(0x9000, command));
        }
    }

    TEST_CASE("63Cx after VERIFY is a wrong PIN with x tries left")
    {
        const auto e = errorFor(0x63C3, CardCommand::VerifyPin);
        CHECK(e.code() == ErrorCode::PinIncorrect);
        CHECK(e.triesLeft == std::optional<int>(3));
    }

    TEST_CASE("63Cx after CHANGE REFERENCE DATA is a wrong (old) PIN too")
    {
        const auto e = errorFor(0x63C9, CardCommand::ChangePin);
        CHECK(e.code() == ErrorCode::PinIncorrect);
        CHECK(e.triesLeft == std::optional<int>(9));
    }

    TEST_CASE("63C0 means the wrong PIN just blocked it")
    {
        const auto e = errorFor(0x63C0, CardCommand::VerifyPin);
        CHECK(e.code() == ErrorCode::PinBlocked);
        CHECK(e.triesLeft == std::optional<int>(0));
    }

    TEST_CASE("63Cx after RESET RETRY COUNTER is about the unblock code")
    {
        const auto e = errorFor(0x63C5, CardCommand::UnblockPin);
        CHECK(e.code() == ErrorCode::UnblockCodeIncorrect);
        CHECK(e.triesLeft == std::optional<int>(5));
        CHECK(errorFor(0x63C0, CardCommand::UnblockPin).code() == ErrorCode::UnblockCodeBlocked);
    }

    TEST_CASE("6983 after a PIN command means blocked: the PIN, or after RESET RETRY COUNTER the unblock code")
    {
        CHECK(errorFor(0x6983, CardCommand::VerifyPin).code() == ErrorCode::PinBlocked);
        CHECK(errorFor(0x6983, CardCommand::ChangePin).code() == ErrorCode::PinBlocked);
        CHECK(errorFor(0x6983, CardCommand::UnblockPin).code() == ErrorCode::UnblockCodeBlocked);
    }

    TEST_CASE("6A80 after a PIN command is a refused PIN format, elsewhere a card error")
    {
        CHECK(errorFor(0x6A80, CardCommand::VerifyPin).code() == ErrorCode::PinFormat);
        const auto e = errorFor(0x6A80, CardCommand::ManageSecurityEnvironment);
        CHECK(e.code() == ErrorCode::CardError);
        CHECK(e.statusWord == std::optional<std::uint16_t>(0x6A80));
    }

    TEST_CASE("6982 after PSO COMPUTE DIGITAL SIGNATURE means a PIN is required")
    {
        CHECK(errorFor(0x6982, CardCommand::ComputeSignature).code() == ErrorCode::PinRequired);
    }

    TEST_CASE("6982 after another command is a card error with the status word")
    {
        const auto e = errorFor(0x6982, CardCommand::ReadBinary);
        CHECK(e.code() == ErrorCode::CardError);
        CHECK(e.statusWord == std::optional<std::uint16_t>(0x6982));
    }

    TEST_CASE("unexpected status words become a card error carrying the status word")
    {
        for (const std::uint16_t sw : {0x6985, 0x6A82, 0x6D00, 0x6E00, 0x6700, 0x6F00, 0x6100, 0x6C10}) {
            const auto e = errorFor(sw, CardCommand::ComputeSignature);
            CHECK(e.code() == ErrorCode::CardError);
            CHECK(e.statusWord == std::optional<std::uint16_t>(sw));
            CHECK_FALSE(e.triesLeft.has_value());
        }
    }

    TEST_CASE("63Cx after a non-PIN command is not mistaken for a PIN answer")
    {
        const auto e = errorFor(0x63C2, CardCommand::ReadBinary);
        CHECK(e.code() == ErrorCode::CardError);
        CHECK_FALSE(e.triesLeft.has_value());
    }
}

TEST_SUITE("pinStatusFromStatusWord")
{
    TEST_CASE("9000 (verified in this session) means the counter is full")
    {
        const auto status = pinStatusFromStatusWord(0x9000, kMaxTries);
        CHECK(status.triesLeft == kMaxTries);
        CHECK(status.maxTries == kMaxTries);
        CHECK_FALSE(status.blocked);
    }

    TEST_CASE("63Cx tells the tries left")
    {
        const auto status = pinStatusFromStatusWord(0x63C7, kMaxTries);
        CHECK(status.triesLeft == 7);
        CHECK(status.maxTries == kMaxTries);
        CHECK_FALSE(status.blocked);
    }

    TEST_CASE("63C0 and 6983 mean blocked")
    {
        for (const std::uint16_t sw : {0x63C0, 0x6983}) {
            const auto status = pinStatusFromStatusWord(sw, kMaxTries);
            CHECK(status.triesLeft == 0);
            CHECK(status.blocked);
        }
    }

    TEST_CASE("anything else is a card error, not a PIN state")
    {
        for (const std::uint16_t sw : {0x6A88, 0x6A80, 0x6985}) {
            try {
                pinStatusFromStatusWord(sw, kMaxTries);
                FAIL("expected an error");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::CardError);
                CHECK(e.statusWord == std::optional<std::uint16_t>(sw));
            }
        }
    }
}
