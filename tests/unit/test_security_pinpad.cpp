// PC/SC part 10 (readers with a PIN pad): the feature list a reader answers
// and the PIN_VERIFY_STRUCTURE inkand would send. vpcd has no pinpad, so these
// byte layouts are checked here against the specification's tables.
#include <doctest/doctest.h>

#include <stdexcept>

#include "daemon/pcsc/pinpad.hpp"

using namespace inkan;
using namespace inkan::pcsc;

namespace {

Bytes bytes(std::initializer_list<int> values)
{
    Bytes out;
    for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

}  // namespace

TEST_SUITE("pcsc part 10")
{
    TEST_CASE("a feature list with VERIFY_PIN_DIRECT names a pinpad and its control code (big-endian)")
    {
        // What libccid answers for a pinpad reader: VERIFY_PIN_DIRECT, MODIFY_PIN_DIRECT, IFD_PIN_PROPERTIES.
        const Bytes answer = bytes({0x06, 0x04, 0x42, 0x33, 0x00, 0x06,  //
                                    0x07, 0x04, 0x42, 0x33, 0x00, 0x07,  //
                                    0x0A, 0x04, 0x42, 0x33, 0x00, 0x0A});
        const part10::Features features = part10::parseFeatures(answer);
        CHECK(features.hasPinpad());
        CHECK(features.verifyPinDirect == 0x42330006u);
        CHECK(features.modifyPinDirect == 0x42330007u);
    }

    TEST_CASE("a reader without the feature, or with an empty answer, has no pinpad")
    {
        CHECK_FALSE(part10::parseFeatures(bytes({0x12, 0x04, 0x42, 0x33, 0x00, 0x12})).hasPinpad());
        CHECK_FALSE(part10::parseFeatures(Bytes{}).hasPinpad());
    }

    TEST_CASE("a malformed list yields only what came before the damage")
    {
        // Truncated value.
        CHECK_FALSE(part10::parseFeatures(bytes({0x06, 0x04, 0x42, 0x33})).hasPinpad());
        // A length other than 4 ends the list: the VERIFY entry after it is not trusted.
        CHECK_FALSE(part10::parseFeatures(bytes({0x0A, 0x02, 0x00, 0x00, 0x06, 0x04, 0x42, 0x33, 0x00, 0x06})).hasPinpad());
        // A good entry before the damage counts.
        CHECK(part10::parseFeatures(bytes({0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x09})).hasPinpad());
        // A lone tag byte.
        CHECK_FALSE(part10::parseFeatures(bytes({0x06})).hasPinpad());
    }

    TEST_CASE("PIN_VERIFY_STRUCTURE: 19 header bytes, little-endian fields, then the APDU template")
    {
        part10::PinVerifyParameters parameters;
        parameters.timeoutSeconds = 30;
        parameters.formatString = part10::kFormatUnitsBytes | part10::kFormatEncodingAscii;
        parameters.blockString = 0x08;  // 8-byte PIN block, no length field
        parameters.lengthFormat = 0x00;
        parameters.minPinLength = 4;
        parameters.maxPinLength = 8;
        parameters.entryValidation = part10::kValidateOnOkKey;
        parameters.messageCount = 1;
        parameters.languageId = 0x0411;  // Japanese
        parameters.messageIndex = 0;
        // VERIFY, PIN reference 81, an 8-byte block pre-filled with FF.
        parameters.apdu = bytes({0x00, 0x20, 0x00, 0x81, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});

        const Bytes encoded = part10::encodePinVerifyStructure(parameters);
        const Bytes expected = bytes({
            0x1E, 0x1E,              // bTimerOut, bTimerOut2
            0x82,                    // bmFormatString: bytes, position 0, left justified, ASCII
            0x08,                    // bmPINBlockString
            0x00,                    // bmPINLengthFormat
            0x08, 0x04,              // wPINMaxExtraDigit 0x0408: min 4 (high byte), max 8 (low byte)
            0x02,                    // bEntryValidationCondition: OK key
            0x01,                    // bNumberMessage
            0x11, 0x04,              // wLangId 0x0411
            0x00,                    // bMsgIndex
            0x00, 0x00, 0x00,        // bTeoPrologue
            0x0D, 0x00, 0x00, 0x00,  // ulDataLength 13
            0x00, 0x20, 0x00, 0x81, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        });
        CHECK(encoded == expected);
    }

    TEST_CASE("a structure without an APDU or with an inverted length range is refused")
    {
        part10::PinVerifyParameters empty;
        CHECK_THROWS_AS(part10::encodePinVerifyStructure(empty), std::invalid_argument);
        part10::PinVerifyParameters inverted;
        inverted.apdu = bytes({0x00, 0x20, 0x00, 0x81});
        inverted.minPinLength = 9;
        inverted.maxPinLength = 4;
        CHECK_THROWS_AS(part10::encodePinVerifyStructure(inverted), std::invalid_argument);
    }
}
