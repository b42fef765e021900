// PinFormat: a card's rule for its PIN values, checked before anything reaches the card.
#include <doctest/doctest.h>

#include "daemon/card/types.hpp"
#include "daemon/error.hpp"

using namespace inkan;

namespace {

ErrorCode refusal(const PinFormat& format, const char* value)
{
    try {
        format.check(Secret(value), "PIN");
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;  // stands for "accepted" below
}

}  // namespace

TEST_SUITE("card pin format")
{
    TEST_CASE("digits: the length range and nothing but digits")
    {
        const PinFormat digits{4, 16, PinFormat::Alphabet::Digits};
        CHECK(refusal(digits, "1234") == ErrorCode::Internal);
        CHECK(refusal(digits, "1234567890123456") == ErrorCode::Internal);
        CHECK(refusal(digits, "123") == ErrorCode::PinFormat);
        CHECK(refusal(digits, "12345678901234567") == ErrorCode::PinFormat);
        CHECK(refusal(digits, "12a4") == ErrorCode::PinFormat);
        CHECK(refusal(digits, "") == ErrorCode::PinFormat);
    }

    TEST_CASE("upper-case alphanumerics: A-Z and 0-9, no lower case, no symbols")
    {
        const PinFormat alphanumeric{6, 16, PinFormat::Alphabet::UpperAlphanumeric};
        CHECK(refusal(alphanumeric, "ABC123") == ErrorCode::Internal);
        CHECK(refusal(alphanumeric, "abc123") == ErrorCode::PinFormat);
        CHECK(refusal(alphanumeric, "ABC-123") == ErrorCode::PinFormat);
        CHECK(refusal(alphanumeric, "ABC12") == ErrorCode::PinFormat);
    }

    TEST_CASE("the message names the value and the rule, never the value itself")
    {
        try {
            PinFormat{8, 8, PinFormat::Alphabet::Digits}.check(Secret("98x"), "unblock code");
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()) == "the unblock code must be 8 digits");
        }
    }
}
