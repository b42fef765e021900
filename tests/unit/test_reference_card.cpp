// The reference card profile (daemon/card/reference_card.*) against scripted
// APDUs transcribed from docs/reference-card.md, the ATR table, and DigestInfo.
#include <doctest/doctest.h>

#include <cctype>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/card/digest_info.hpp"
#include "daemon/card/profiles.hpp"
#include "daemon/card/reference_card.hpp"
#include "daemon/error.hpp"
#include "tests/unit/scripted_transport.hpp"
#include "daemon/pcsc/apdu_channel.hpp"

using inkan::Bytes;
using inkan::DigestAlgorithm;
using inkan::Error;
using inkan::ErrorCode;
using inkan::PinInput;
using inkan::Secret;
using inkan::card::ReferenceCard;
using inkan::pcsc::ApduChannel;
using inkan::pcsc::ByteView;
using inkan::test::concat;
using inkan::test::hex;
using ScriptedCard = inkan::test::ScriptedTransport;

namespace {

Bytes slice(const Bytes& bytes, std::size_t from, std::size_t to) { return Bytes(bytes.begin() + from, bytes.begin() + to); }

// The commands of docs/reference-card.md, as a reader of the spec writes them.
const Bytes kSelectApplication = hex("00 A4 04 00 07 F0 49 4E 4B 41 4E 01 00");
const Bytes kOk = hex("90 00");
// Its FCI: 6F { 84 AID, A5 { 81 01 <max PIN tries>, 82 01 <max unblock-code tries> } } + 9000.
Bytes fci(int maxPin, int maxUnblock)
{
    return concat(hex("6F 11 84 07 F0 49 4E 4B 41 4E 01 A5 06 81 01"),
                  concat(Bytes{static_cast<std::uint8_t>(maxPin), 0x82, 0x01, static_cast<std::uint8_t>(maxUnblock)},
                         hex("90 00")));
}
const Bytes kFci = fci(10, 10);
const Bytes kPinStatusQuery = hex("00 20 00 81");
const Bytes kPin1234Block = hex("31 32 33 34 FF FF FF FF FF FF FF FF FF FF FF FF");
const Bytes kPin9999Block = hex("39 39 39 39 FF FF FF FF FF FF FF FF FF FF FF FF");
const Bytes kPin567890Block = hex("35 36 37 38 39 30 FF FF FF FF FF FF FF FF FF FF");
const Bytes kUnblockBlock = hex("31 32 33 34 35 36 37 38 FF FF FF FF FF FF FF FF");
const Bytes kMseSet = hex("00 22 41 B6 06 80 01 02 84 01 01");
const Bytes kSha256Prefix = hex("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20");

// PC/SC part 10 §2.5.2 PIN_VERIFY_STRUCTURE, field by field, little-endian.
const Bytes kPinpadVerifyStructure = concat(hex("1E 1E"      // bTimerOut, bTimerOut2: 30 s
                                                "82"         // bmFormatString: bytes, position 0, left, ASCII
                                                "00 00"      // bmPINBlockString, bmPINLengthFormat
                                                "10 04"      // wPINMaxExtraDigit: 4 to 16 digits
                                                "02"         // bEntryValidationCondition: OK key
                                                "01"         // bNumberMessage
                                                "11 04"      // wLangId: Japanese
                                                "00"         // bMsgIndex
                                                "00 00 00"   // bTeoPrologue
                                                "15 00 00 00"),  // ulDataLength: 21
                                            concat(hex("00 20 00 81 10"), Bytes(16, 0xFF)));

// §2.5.3 PIN_MODIFY_STRUCTURE for a command with two 16-byte blocks.
Bytes pinpadModifyStructure(const Bytes& header)
{
    return concat(hex("1E 1E 82 00 00"
                      "00 10"        // bInsertionOffsetOld 0, bInsertionOffsetNew 16
                      "10 04"        // wPINMaxExtraDigit: 4 to 16 digits
                      "03"           // bConfirmPIN: ask the current value, type the new one twice
                      "02 03"        // bEntryValidationCondition, bNumberMessage
                      "11 04"        // wLangId
                      "00 01 02"     // bMsgIndex1..3
                      "00 00 00"     // bTeoPrologue
                      "25 00 00 00"),  // ulDataLength: 37
                  concat(header, Bytes(32, 0xFF)));
}

template <class Operation>
Error errorOf(Operation&& operation)
{
    try {
        operation();
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected an inkan::Error");
    return Error(ErrorCode::Internal, "unreachable");
}

}  // namespace

TEST_SUITE("ATR table")
{
    TEST_CASE("the reference card's ATR selects the reference profile")
    {
        const auto token = inkan::card::tokenForAtr(hex("3B 88 80 01 49 4E 4B 41 4E 56 43 31 6E"));
        REQUIRE(token);
        CHECK(token->profileId() == "inkan-reference");
    }

    TEST_CASE("a later reference card revision matches the masked entry")
    {
        // "INKANVC2" and its own TCK.
        const auto token = inkan::card::tokenForAtr(hex("3B 88 80 01 49 4E 4B 41 4E 56 43 32 6D"));
        REQUIRE(token);
        CHECK(token->profileId() == "inkan-reference");
    }

    TEST_CASE("the My Number card's ATR selects the JPKI profile, with its two PINs and keys")
    {
        const auto token = inkan::card::tokenForAtr(hex("3B E0 00 FF 81 31 FE 45 14"));
        REQUIRE(token);
        CHECK(token->profileId() == "jpki");
        REQUIRE(token->pins().size() == 2);
        CHECK(token->pins()[0].id == "sign");
        CHECK(token->pins()[1].id == "auth");
        CHECK_FALSE(token->pins()[0].unblockCodeFormat);
        CHECK(token->key("auth").pinId == "auth");
        CHECK(token->keys().front().certificateId == "sign");
        CHECK(token->protectedCertificates().at(0).certificateId == "sign");
    }

    TEST_CASE("unknown, truncated and empty ATRs select no profile")
    {
        CHECK_FALSE(inkan::card::tokenForAtr(hex("3B E0 00 FF 81 31 FE 45")));  // a truncated My Number card ATR
        CHECK_FALSE(inkan::card::tokenForAtr(hex("3B 88 80 01 49 4E 4B 41 4E 56 43 31")));
        CHECK_FALSE(inkan::card::tokenForAtr(Bytes{}));
        CHECK_FALSE(inkan::card::tokenForAtr(hex("3B 88 80 01 49 4E 4B 41 4E 56 44 31 6E")));  // "INKANVD1"
    }
}

TEST_SUITE("DigestInfo")
{
    TEST_CASE("SHA-256/384/512 DigestInfo are the RFC 8017 prefixes followed by the digest")
    {
        const Bytes d256(32, 0xA1), d384(48, 0xB2), d512(64, 0xC3);
        CHECK(inkan::card::digestInfo(DigestAlgorithm::Sha256, d256) == concat(kSha256Prefix, d256));
        CHECK(inkan::card::digestInfo(DigestAlgorithm::Sha384, d384)
              == concat(hex("30 41 30 0D 06 09 60 86 48 01 65 03 04 02 02 05 00 04 30"), d384));
        CHECK(inkan::card::digestInfo(DigestAlgorithm::Sha512, d512)
              == concat(hex("30 51 30 0D 06 09 60 86 48 01 65 03 04 02 03 05 00 04 40"), d512));
    }

    TEST_CASE("a digest of the wrong length is a bad request")
    {
        CHECK(errorOf([] { inkan::card::digestInfo(DigestAlgorithm::Sha256, Bytes(31, 0)); }).code()
              == ErrorCode::BadRequest);
        CHECK(errorOf([] { inkan::card::digestInfo(DigestAlgorithm::Sha384, Bytes(32, 0)); }).code()
              == ErrorCode::BadRequest);
        CHECK(errorOf([] { inkan::card::digestInfo(DigestAlgorithm::Sha512, Bytes{}); }).code()
              == ErrorCode::BadRequest);
    }
}

TEST_SUITE("ReferenceCard")
{
    const ReferenceCard profile;

    TEST_CASE("the card id is the first 16 hex digits of SHA-256(\"inkan-reference:\" || serial)")
    {
        CHECK(ReferenceCard::cardIdForSerial(hex("01 02 03 04 05 06 07 08")) == "edecb49c0aa7856e");
        CHECK(ReferenceCard::cardIdForSerial(hex("00 00 00 00 00 00 00 00")) == "8b4fbc042d053e96");
    }

    TEST_CASE("readIdentity selects the application and reads the 8-byte serial of EF D001")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 A4 02 0C 02 D0 01"), kOk);                      // SELECT EF D001
        card.expect(hex("00 B0 00 00 08"), hex("01 02 03 04 05 06 07 08 90 00"));  // READ BINARY 8
        ApduChannel channel(card);

        const auto identity = profile.readIdentity(channel);

        CHECK(identity.serial == hex("01 02 03 04 05 06 07 08"));
        CHECK(identity.cardId == "edecb49c0aa7856e");
        CHECK(card.finished());
    }

    TEST_CASE("a short serial is a card error")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 A4 02 0C 02 D0 01"), kOk);
        card.expect(hex("00 B0 00 00 08"), hex("6C 04"));                  // only 4 bytes in the file
        card.expect(hex("00 B0 00 00 04"), hex("01 02 03 04 90 00"));
        ApduChannel channel(card);

        CHECK(errorOf([&] { profile.readIdentity(channel); }).code() == ErrorCode::CardError);
    }

    TEST_CASE("a card without the application is a card error carrying 6A82")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, hex("6A 82"));
        ApduChannel channel(card);

        const auto e = errorOf([&] { profile.readIdentity(channel); });
        CHECK(e.code() == ErrorCode::CardError);
        CHECK(e.statusWord == std::optional<std::uint16_t>(0x6A82));
    }

    TEST_CASE("certificates are read in 256-byte pieces after the 4-byte DER header")
    {
        // EF C001: 30 82 01 2C = a SEQUENCE of 300 bytes, 304 bytes in all.
        Bytes signing = hex("30 82 01 2C");
        for (int i = 0; i < 300; ++i) signing.push_back(static_cast<std::uint8_t>(i));
        // EF C002: a short-form SEQUENCE of 8 bytes.
        const Bytes ca = hex("30 06 02 01 01 02 01 02");

        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 A4 02 0C 02 C0 01"), kOk);                                  // SELECT EF C001
        card.expect(hex("00 B0 00 00 04"), concat(slice(signing, 0, 4), kOk));          // the DER header
        card.expect(hex("00 B0 00 04 00"), concat(slice(signing, 4, 260), kOk));        // offset 4, 256 bytes
        card.expect(hex("00 B0 01 04 2C"), concat(slice(signing, 260, 304), kOk));      // offset 260, the last 44
        card.expect(hex("00 A4 02 0C 02 C0 02"), kOk);                                  // SELECT EF C002
        card.expect(hex("00 B0 00 00 04"), concat(slice(ca, 0, 4), kOk));
        card.expect(hex("00 B0 00 04 04"), concat(slice(ca, 4, 8), kOk));
        ApduChannel channel(card);

        const auto certificates = profile.readCertificates(channel);

        REQUIRE(certificates.size() == 2);
        CHECK(certificates[0].id == "sign");
        CHECK(certificates[0].der == signing);
        CHECK(certificates[1].id == "ca");
        CHECK(certificates[1].der == ca);
        CHECK(card.finished());
    }

    TEST_CASE("a missing CA certificate (6A82) is skipped")
    {
        const Bytes signing = hex("30 02 05 00");
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 A4 02 0C 02 C0 01"), kOk);
        card.expect(hex("00 B0 00 00 04"), concat(signing, kOk));  // the whole 4-byte SEQUENCE
        card.expect(hex("00 A4 02 0C 02 C0 02"), hex("6A 82"));   // no CA certificate on this card
        ApduChannel channel(card);

        const auto certificates = profile.readCertificates(channel);

        REQUIRE(certificates.size() == 1);
        CHECK(certificates[0].der == signing);
    }

    TEST_CASE("a missing signing certificate or a file that is no DER SEQUENCE is a card error")
    {
        ScriptedCard missing;
        missing.expect(kSelectApplication, kFci);
        missing.expect(hex("00 A4 02 0C 02 C0 01"), hex("6A 82"));
        ApduChannel missingChannel(missing);
        CHECK(errorOf([&] { profile.readCertificates(missingChannel); }).code() == ErrorCode::CardError);

        ScriptedCard garbage;
        garbage.expect(kSelectApplication, kFci);
        garbage.expect(hex("00 A4 02 0C 02 C0 01"), kOk);
        garbage.expect(hex("00 B0 00 00 04"), hex("FF FF FF FF 90 00"));
        ApduChannel garbageChannel(garbage);
        CHECK(errorOf([&] { profile.readCertificates(garbageChannel); }).code() == ErrorCode::CardError);
    }

    TEST_CASE("a certificate claiming more than READ BINARY can address is refused before reading it")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 A4 02 0C 02 C0 01"), kOk);
        card.expect(hex("00 B0 00 00 04"), hex("30 82 FF FF 90 00"));  // 65 539 bytes
        ApduChannel channel(card);

        CHECK(errorOf([&] { profile.readCertificates(channel); }).code() == ErrorCode::CardError);
        CHECK(card.finished());
    }

    TEST_CASE("pinStatus and unblockCodeStatus ask with VERIFY 81 / 82 without data and spend no try")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 20 00 81"), hex("63 C7"));  // not verified, 7 tries left
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 20 00 82"), hex("63 C5"));  // the unblock code: 5 tries left
        ApduChannel channel(card);

        const auto pin = profile.pinStatus(channel, "user");
        const auto unblockCode = profile.unblockCodeStatus(channel, "user");

        CHECK(pin.triesLeft == 7);
        CHECK(pin.maxTries == 10);
        CHECK_FALSE(pin.blocked);
        CHECK(unblockCode.triesLeft == 5);
        CHECK(unblockCode.maxTries == 10);
        CHECK(card.finished());
    }

    TEST_CASE("verifyPin sends the PIN padded with FF to 16 bytes")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin1234Block), kOk);
        card.expect(kPinStatusQuery, kOk);  // read back: verified
        ApduChannel channel(card);

        const auto status = profile.verifyPin(channel, "user", Secret("1234"));

        CHECK(status.triesLeft == 10);
        CHECK_FALSE(status.blocked);
        CHECK(card.finished());
    }

    TEST_CASE("a wrong PIN reports the tries left")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin9999Block), hex("63 C9"));
        ApduChannel channel(card);

        const auto e = errorOf([&] { profile.verifyPin(channel, "user", Secret("9999")); });

        CHECK(e.code() == ErrorCode::PinIncorrect);
        CHECK(e.triesLeft == std::optional<int>(9));
    }

    TEST_CASE("a blocked PIN is reported as blocked")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin1234Block), hex("69 83"));
        ApduChannel channel(card);

        CHECK(errorOf([&] { profile.verifyPin(channel, "user", Secret("1234")); }).code() == ErrorCode::PinBlocked);
    }

    TEST_CASE("a PIN of the wrong format is refused before any APDU is sent")
    {
        for (const char* pin : {"", "123", "12a4", "1234 ", "12345678901234567", "１２３４"}) {
            ScriptedCard card;
            ApduChannel channel(card);
            CHECK(errorOf([&] { profile.verifyPin(channel, "user", Secret(pin)); }).code() == ErrorCode::PinFormat);
            CHECK(errorOf([&] { profile.changePin(channel, "user", Secret("1234"), Secret(pin)); }).code()
                  == ErrorCode::PinFormat);
            CHECK(errorOf([&] { profile.changePin(channel, "user", Secret(pin), Secret("1234")); }).code()
                  == ErrorCode::PinFormat);
            CHECK(errorOf([&] { profile.unblockPin(channel, "user", Secret("12345678"), Secret(pin)); }).code()
                  == ErrorCode::PinFormat);
            CHECK(card.sent() == 0);
        }
    }

    TEST_CASE("an unblock code that is not exactly 8 digits is refused before any APDU is sent")
    {
        for (const char* code : {"1234567", "123456789", "1234567a", ""}) {
            ScriptedCard card;
            ApduChannel channel(card);
            CHECK(errorOf([&] { profile.unblockPin(channel, "user", Secret(code), Secret("1234")); }).code()
                  == ErrorCode::PinFormat);
            CHECK(card.sent() == 0);
        }
    }

    TEST_CASE("16-digit PINs fill the block without padding")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(hex("00 20 00 81 10 31 32 33 34 35 36 37 38 39 30 31 32 33 34 35 36"), kOk);
        card.expect(kPinStatusQuery, kOk);
        ApduChannel channel(card);

        CHECK_NOTHROW(profile.verifyPin(channel, "user", Secret("1234567890123456")));
    }

    TEST_CASE("changePin sends the old and the new PIN block in one CHANGE REFERENCE DATA")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(concat(hex("00 24 00 81 20"), kPin1234Block), kPin567890Block), kOk);
        card.expect(kPinStatusQuery, hex("63 CA"));  // read back: not verified, 10 tries
        ApduChannel channel(card);

        const auto status = profile.changePin(channel, "user", Secret("1234"), Secret("567890"));

        CHECK(status.triesLeft == 10);
        CHECK(card.finished());
    }

    TEST_CASE("changePin with a wrong old PIN reports the tries left")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(concat(hex("00 24 00 81 20"), kPin9999Block), kPin567890Block), hex("63 C2"));
        ApduChannel channel(card);

        const auto e = errorOf([&] { profile.changePin(channel, "user", Secret("9999"), Secret("567890")); });
        CHECK(e.code() == ErrorCode::PinIncorrect);
        CHECK(e.triesLeft == std::optional<int>(2));
    }

    TEST_CASE("unblockPin sends unblock code and new PIN in RESET RETRY COUNTER")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(concat(hex("00 2C 00 81 20"), kUnblockBlock), kPin1234Block), kOk);
        card.expect(kPinStatusQuery, hex("63 CA"));
        ApduChannel channel(card);

        const auto status = profile.unblockPin(channel, "user", Secret("12345678"), Secret("1234"));

        CHECK(status.triesLeft == 10);
        CHECK_FALSE(status.blocked);
        CHECK(card.finished());
    }

    TEST_CASE("a wrong unblock code reports the unblock code's tries left, a blocked one UnblockCodeBlocked")
    {
        ScriptedCard wrong;
        wrong.expect(kSelectApplication, kFci);
        wrong.expect(concat(concat(hex("00 2C 00 81 20"), kUnblockBlock), kPin1234Block), hex("63 C4"));
        ApduChannel wrongChannel(wrong);
        const auto e = errorOf([&] { profile.unblockPin(wrongChannel, "user", Secret("12345678"), Secret("1234")); });
        CHECK(e.code() == ErrorCode::UnblockCodeIncorrect);
        CHECK(e.triesLeft == std::optional<int>(4));

        ScriptedCard blocked;
        blocked.expect(kSelectApplication, kFci);
        blocked.expect(concat(concat(hex("00 2C 00 81 20"), kUnblockBlock), kPin1234Block), hex("69 83"));
        ApduChannel blockedChannel(blocked);
        CHECK(errorOf([&] { profile.unblockPin(blockedChannel, "user", Secret("12345678"), Secret("1234")); }).code()
              == ErrorCode::UnblockCodeBlocked);
    }

    TEST_CASE("sign with a PIN: SELECT, VERIFY, MSE SET, PSO, GET RESPONSE")
    {
        const Bytes digest(32, 0x42);
        Bytes signature;
        for (int i = 0; i < 256; ++i) signature.push_back(static_cast<std::uint8_t>(255 - i));

        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin1234Block), kOk);  // VERIFY 1234
        card.expect(kMseSet, kOk);                                         // alg 02, key 01
        // PSO COMPUTE DIGITAL SIGNATURE, Lc 33 = 19-byte prefix + 32-byte digest, Le 00.
        card.expect(concat(concat(concat(hex("00 2A 9E 9A 33"), kSha256Prefix), digest), hex("00")), hex("61 00"));
        card.expect(hex("00 C0 00 00 00"), concat(signature, kOk));  // GET RESPONSE 256
        card.expect(kPinStatusQuery, hex("63 CA"));                   // the verification is used up
        ApduChannel channel(card);

        const PinInput pin(Secret("1234"));
        const auto result = profile.sign(channel, "sign", DigestAlgorithm::Sha256, digest, &pin);

        CHECK(result.signature == signature);
        CHECK(result.algorithm == "RSASSA-PKCS1-v1_5-SHA-256");
        CHECK(card.finished());
    }

    TEST_CASE("VERIFY on the PIN pad: the reader gets PIN_VERIFY_STRUCTURE with the all-FF block as the template")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(ScriptedCard::Via::PinpadVerify, kPinpadVerifyStructure, kOk);
        card.expect(kPinStatusQuery, kOk);
        ApduChannel channel(card);
        const auto status = profile.verifyPin(channel, "user", PinInput::onPinpad());
        CHECK(status.triesLeft == 10);
        CHECK(card.finished());
    }

    TEST_CASE("what the PIN pad answers: the card's 63Cx, or the reader's own 6400 / 6401 / 6402 / 6403")
    {
        const auto pinpadError = [&](const Bytes& answer) {
            ScriptedCard card;
            card.expect(kSelectApplication, kFci);
            card.expect(ScriptedCard::Via::PinpadVerify, kPinpadVerifyStructure, answer);
            ApduChannel channel(card);
            return errorOf([&] { profile.verifyPin(channel, "user", PinInput::onPinpad()); });
        };
        const auto wrong = pinpadError(hex("63 C4"));
        CHECK(wrong.code() == ErrorCode::PinIncorrect);
        CHECK(wrong.triesLeft == std::optional<int>(4));
        CHECK(pinpadError(hex("64 00")).code() == ErrorCode::PinEntryTimeout);
        CHECK(pinpadError(hex("64 01")).code() == ErrorCode::PinCancelled);
        CHECK(pinpadError(hex("64 02")).code() == ErrorCode::PinFormat);
        CHECK(pinpadError(hex("64 03")).code() == ErrorCode::PinFormat);
        CHECK(pinpadError(hex("69 83")).code() == ErrorCode::PinBlocked);
    }

    TEST_CASE("CHANGE and RESET RETRY COUNTER on the PIN pad: PIN_MODIFY_STRUCTURE, current value then the new PIN twice")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(ScriptedCard::Via::PinpadModify, pinpadModifyStructure(hex("00 24 00 81 20")), kOk);
        card.expect(kPinStatusQuery, hex("63 CA"));
        card.expect(kSelectApplication, kFci);
        card.expect(ScriptedCard::Via::PinpadModify, pinpadModifyStructure(hex("00 2C 00 81 20")), hex("63 C9"));
        ApduChannel channel(card);
        CHECK(profile.changePin(channel, "user", PinInput::onPinpad(), PinInput::onPinpad()).triesLeft == 10);
        const auto e = errorOf([&] { profile.unblockPin(channel, "user", PinInput::onPinpad(), PinInput::onPinpad()); });
        CHECK(e.code() == ErrorCode::UnblockCodeIncorrect);
        CHECK(e.triesLeft == std::optional<int>(9));
        CHECK(card.finished());
    }

    TEST_CASE("sign with the PIN pad: SELECT, VERIFY on the pad, MSE SET, PSO, GET RESPONSE")
    {
        const Bytes digest(32, 0x42);
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(ScriptedCard::Via::PinpadVerify, kPinpadVerifyStructure, kOk);
        card.expect(kMseSet, kOk);
        card.expect(concat(concat(concat(hex("00 2A 9E 9A 33"), kSha256Prefix), digest), hex("00")), hex("61 00"));
        card.expect(hex("00 C0 00 00 00"), concat(Bytes(256, 0x5A), kOk));
        card.expect(kPinStatusQuery, hex("63 CA"));
        ApduChannel channel(card);
        const auto pin = PinInput::onPinpad();
        CHECK(profile.sign(channel, "sign", DigestAlgorithm::Sha256, digest, &pin).signature == Bytes(256, 0x5A));
        CHECK(card.finished());
    }

    TEST_CASE("a PIN change takes both values from the pad or neither; a reader without a pad says so")
    {
        ScriptedCard card;
        ApduChannel channel(card);
        CHECK(errorOf([&] { profile.changePin(channel, "user", Secret("1234"), PinInput::onPinpad()); }).code()
              == ErrorCode::Internal);
        CHECK(card.sent() == 0);

        struct NoPinpad final : inkan::pcsc::ApduTransport {
            Bytes transmit(ByteView command) override { return command[1] == 0xA4 ? kFci : hex("90 00"); }
        } plain;
        ApduChannel plainChannel(plain);
        CHECK(errorOf([&] { profile.verifyPin(plainChannel, "user", PinInput::onPinpad()); }).code()
              == ErrorCode::PinpadUnavailable);
    }

    TEST_CASE("sign without a PIN skips VERIFY and a 6982 means the PIN is required")
    {
        const Bytes digest(64, 0x07);
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(kMseSet, kOk);
        card.expect(concat(concat(concat(hex("00 2A 9E 9A 53"),
                                         hex("30 51 30 0D 06 09 60 86 48 01 65 03 04 02 03 05 00 04 40")),
                                  digest),
                           hex("00")),
                    hex("69 82"));
        ApduChannel channel(card);

        CHECK(errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha512, digest, nullptr); }).code()
              == ErrorCode::PinRequired);
        CHECK(card.finished());
    }

    TEST_CASE("sign names the digest algorithm in the signature algorithm")
    {
        const Bytes digest(48, 0x01);
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(kMseSet, kOk);
        card.expect(concat(concat(concat(hex("00 2A 9E 9A 43"),
                                         hex("30 41 30 0D 06 09 60 86 48 01 65 03 04 02 02 05 00 04 30")),
                                  digest),
                           hex("00")),
                    hex("61 00"));
        card.expect(hex("00 C0 00 00 00"), concat(Bytes(256, 0x99), kOk));
        card.expect(kPinStatusQuery, hex("63 CA"));
        ApduChannel channel(card);

        CHECK(profile.sign(channel, "sign", DigestAlgorithm::Sha384, digest, nullptr).algorithm
              == "RSASSA-PKCS1-v1_5-SHA-384");
    }

    TEST_CASE("sign with a wrong PIN stops after VERIFY")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin9999Block), hex("63 C8"));
        ApduChannel channel(card);

        const PinInput pin(Secret("9999"));
        const auto e = errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha256, Bytes(32, 0), &pin); });
        CHECK(e.code() == ErrorCode::PinIncorrect);
        CHECK(e.triesLeft == std::optional<int>(8));
        CHECK(card.finished());
    }

    TEST_CASE("sign refuses a digest of the wrong length or a malformed PIN before any APDU")
    {
        ScriptedCard card;
        ApduChannel channel(card);
        const PinInput pin(Secret("1234"));
        const PinInput badPin(Secret("12"));

        CHECK(errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha256, Bytes(20, 0), &pin); }).code()
              == ErrorCode::BadRequest);
        CHECK(errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha512, Bytes(32, 0), nullptr); }).code()
              == ErrorCode::BadRequest);
        CHECK(errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha256, Bytes(32, 0), &badPin); }).code()
              == ErrorCode::PinFormat);
        CHECK(card.sent() == 0);
    }

    TEST_CASE("a failing MSE SET is a card error with its status word")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(kMseSet, hex("6A 80"));
        ApduChannel channel(card);

        const auto e = errorOf([&] { profile.sign(channel, "sign", DigestAlgorithm::Sha256, Bytes(32, 0), nullptr); });
        CHECK(e.code() == ErrorCode::CardError);
        CHECK(e.statusWord == std::optional<std::uint16_t>(0x6A80));
    }

    TEST_CASE("the try maxima come from the card's FCI, not from the profile")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, fci(5, 3));
        card.expect(kPinStatusQuery, kOk);  // verified: the counter is at the maximum
        card.expect(kSelectApplication, fci(5, 3));
        card.expect(hex("00 20 00 82"), hex("63 C2"));
        ApduChannel channel(card);

        const auto pin = profile.pinStatus(channel, "user");
        CHECK(pin.triesLeft == 5);
        CHECK(pin.maxTries == 5);
        const auto unblockCode = profile.unblockCodeStatus(channel, "user");
        CHECK(unblockCode.triesLeft == 2);
        CHECK(unblockCode.maxTries == 3);
        CHECK(card.finished());
    }

    TEST_CASE("a card whose FCI does not tell the maxima is a card error for PIN operations, before any PIN is sent")
    {
        for (const Bytes& answer : {kOk, hex("6F 09 84 07 F0 49 4E 4B 41 4E 01 90 00"),
                                    hex("6F 0A 84 07 F0 49 4E 4B 41 4E 01 A5 90 00"),  // truncated
                                    fci(0, 10), fci(10, 16)}) {
            ScriptedCard card;
            card.expect(kSelectApplication, answer);
            ApduChannel channel(card);
            CHECK(errorOf([&] { profile.verifyPin(channel, "user", Secret("1234")); }).code() == ErrorCode::CardError);
            CHECK(card.finished());
        }
    }

    TEST_CASE("the check sees the counter read after the one SELECT, right before the PIN is sent")
    {
        std::vector<int> seen;
        const inkan::PinCheck check = [&](const inkan::PinStatus& status) { seen.push_back(status.triesLeft); };

        ScriptedCard card;
        card.expect(kSelectApplication, fci(5, 10));
        card.expect(kPinStatusQuery, hex("63 C4"));
        card.expect(concat(hex("00 20 00 81 10"), kPin1234Block), kOk);
        card.expect(kPinStatusQuery, kOk);
        ApduChannel channel(card);
        const auto status = profile.verifyPin(channel, "user", Secret("1234"), check);
        CHECK(seen == std::vector<int>{4});
        CHECK(status.triesLeft == 5);  // read back from the card: its maximum, not the profile's 10
        CHECK(status.maxTries == 5);
        CHECK(card.finished());

        // Unblocking is checked against the unblock code's counter.
        ScriptedCard unblock;
        unblock.expect(kSelectApplication, kFci);
        unblock.expect(hex("00 20 00 82"), hex("63 C6"));
        unblock.expect(concat(concat(hex("00 2C 00 81 20"), kUnblockBlock), kPin1234Block), kOk);
        unblock.expect(kPinStatusQuery, hex("63 CA"));
        ApduChannel unblockChannel(unblock);
        (void)profile.unblockPin(unblockChannel, "user", Secret("12345678"), Secret("1234"), check);
        CHECK(seen == std::vector<int>{4, 6});
        CHECK(unblock.finished());
    }

    TEST_CASE("a check that refuses stops every PIN command before it is sent")
    {
        const inkan::PinCheck refuse = [](const inkan::PinStatus& status) {
            throw Error(ErrorCode::PinGuard, "guarded").withTriesLeft(status.triesLeft);
        };
        const auto refused = [&](auto&& operation, const Bytes& query) {
            ScriptedCard card;
            card.expect(kSelectApplication, kFci);
            card.expect(query, hex("63 C2"));
            ApduChannel channel(card);
            const auto e = errorOf([&] { operation(channel); });
            CHECK(e.code() == ErrorCode::PinGuard);
            CHECK(card.finished());  // nothing after the counter
        };
        const PinInput pin(Secret("1234"));
        refused([&](ApduChannel& c) { profile.verifyPin(c, "user", pin, refuse); }, kPinStatusQuery);
        refused([&](ApduChannel& c) { profile.verifyPin(c, "user", PinInput::onPinpad(), refuse); }, kPinStatusQuery);
        refused([&](ApduChannel& c) { profile.changePin(c, "user", Secret("1234"), Secret("5678"), refuse); }, kPinStatusQuery);
        refused([&](ApduChannel& c) { profile.unblockPin(c, "user", Secret("12345678"), Secret("1234"), refuse); },
                hex("00 20 00 82"));
        refused([&](ApduChannel& c) { profile.sign(c, "sign", DigestAlgorithm::Sha256, Bytes(32, 0), &pin, refuse); },
                kPinStatusQuery);
    }

    TEST_CASE("a 6Cxx answer to VERIFY with a PIN is a card error; the PIN is sent once")
    {
        ScriptedCard card;
        card.expect(kSelectApplication, kFci);
        card.expect(concat(hex("00 20 00 81 10"), kPin1234Block), hex("6C 10"));
        ApduChannel channel(card);
        const auto e = errorOf([&] { profile.verifyPin(channel, "user", Secret("1234")); });
        CHECK(e.code() == ErrorCode::CardError);
        CHECK(e.statusWord == std::optional<std::uint16_t>(0x6C10));
        CHECK(card.finished());
    }
}
