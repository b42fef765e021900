// APDU encoding/decoding (ISO/IEC 7816-4 §5.1) and the channel's handling of
// 61xx / 6Cxx (§5.6), against a transport replaying scripted APDU pairs.
#include <doctest/doctest.h>

#include <cctype>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>

#include "daemon/error.hpp"
#include "tests/unit/scripted_transport.hpp"
#include "daemon/pcsc/apdu.hpp"
#include "daemon/pcsc/apdu_channel.hpp"
#include "daemon/pcsc/scard_call.hpp"

using inkan::Bytes;
using inkan::Error;
using inkan::ErrorCode;
using inkan::pcsc::ApduChannel;
using inkan::pcsc::ApduHeader;
using inkan::pcsc::ByteView;
using inkan::pcsc::CommandApdu;
using inkan::pcsc::ResponseApdu;
using inkan::test::concat;
using inkan::test::hex;
using inkan::test::ScriptedTransport;

namespace {

Bytes repeat(std::uint8_t value, std::size_t count) { return Bytes(count, value); }

constexpr ApduHeader kReadBinary{0x00, 0xB0, 0x00, 0x00};
constexpr ApduHeader kComputeSignature{0x00, 0x2A, 0x9E, 0x9A};

}  // namespace

TEST_SUITE("CommandApdu")
{
    TEST_CASE("case 1 is the header alone")
    {
        CHECK(CommandApdu({0x00, 0x20, 0x00, 0x81}).encode() == hex("00 20 00 81"));
    }

    TEST_CASE("case 2 appends Le, with 256 encoded as 00")
    {
        CHECK(CommandApdu(kReadBinary, {}, 8).encode() == hex("00 B0 00 00 08"));
        CHECK(CommandApdu(kReadBinary, {}, 256).encode() == hex("00 B0 00 00 00"));
    }

    TEST_CASE("case 3 appends Lc and the data")
    {
        CHECK(CommandApdu({0x00, 0xA4, 0x02, 0x0C}, hex("C0 01")).encode() == hex("00 A4 02 0C 02 C0 01"));
    }

    TEST_CASE("case 4 appends Lc, the data and Le")
    {
        CHECK(CommandApdu(kComputeSignature, hex("01 02 03"), 256).encode() == hex("00 2A 9E 9A 03 01 02 03 00"));
    }

    TEST_CASE("the largest short APDU carries 255 data bytes")
    {
        const auto encoded = CommandApdu(kComputeSignature, repeat(0xAB, 255), 256).encode();
        CHECK(encoded.size() == 4 + 1 + 255 + 1);
        CHECK(encoded[4] == 0xFF);
    }

    TEST_CASE("data or Le that do not fit a short APDU are a programming error")
    {
        CHECK_THROWS_AS(CommandApdu(kComputeSignature, repeat(0, 256)), Error);
        CHECK_THROWS_AS(CommandApdu(kReadBinary, {}, 0), Error);
        CHECK_THROWS_AS(CommandApdu(kReadBinary, {}, 257), Error);
        try {
            CommandApdu(kReadBinary, {}, 257);
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::Internal);
        }
    }

    TEST_CASE("withLe keeps header and data and changes Le only")
    {
        const CommandApdu original(kComputeSignature, hex("01 02"), 256);
        CHECK(original.withLe(0x20).encode() == hex("00 2A 9E 9A 02 01 02 20"));
        CHECK(original.encode() == hex("00 2A 9E 9A 02 01 02 00"));
    }
}

TEST_SUITE("ResponseApdu")
{
    TEST_CASE("the last two bytes are the status word")
    {
        const auto response = ResponseApdu::fromBytes(hex("01 02 03 90 00"));
        CHECK(response.data() == hex("01 02 03"));
        CHECK(response.sw() == 0x9000);
        CHECK(response.sw1() == 0x90);
        CHECK(response.sw2() == 0x00);
        CHECK(response.isSuccess());
        CHECK(response.toBytes() == hex("01 02 03 90 00"));
    }

    TEST_CASE("a status word alone has no data")
    {
        const auto response = ResponseApdu::fromBytes(hex("63 C3"));
        CHECK(response.data().empty());
        CHECK(response.sw() == 0x63C3);
        CHECK_FALSE(response.isSuccess());
    }

    TEST_CASE("fewer than two bytes are a card error")
    {
        for (const auto& raw : {Bytes{}, hex("90")}) {
            try {
                ResponseApdu::fromBytes(raw);
                FAIL("expected an error");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::CardError);
            }
        }
    }
}

TEST_SUITE("ApduChannel")
{
    TEST_CASE("a plain 9000 answer passes through with one exchange")
    {
        ScriptedTransport card;
        card.expect(hex("00 B0 00 00 02"), hex("AA BB 90 00"));  // READ BINARY 2 bytes
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kReadBinary, {}, 2));

        CHECK(response.data() == hex("AA BB"));
        CHECK(response.sw() == 0x9000);
        CHECK(card.finished());
    }

    TEST_CASE("61 00 is followed by GET RESPONSE with Le 00 and the data returned")
    {
        ScriptedTransport card;
        const auto signature = repeat(0x5A, 256);
        card.expect(hex("00 2A 9E 9A 03 01 02 03 00"), hex("61 00"));           // PSO: 256 bytes ready
        card.expect(hex("00 C0 00 00 00"), concat(signature, hex("90 00")));  // GET RESPONSE 256
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kComputeSignature, hex("01 02 03"), 256));

        CHECK(response.sw() == 0x9000);
        CHECK(response.data() == signature);
        CHECK(card.finished());
    }

    TEST_CASE("chained 61xx answers are concatenated in order")
    {
        ScriptedTransport card;
        card.expect(hex("00 2A 9E 9A 01 00 00"), concat(repeat(0x01, 4), hex("61 10")));  // 4 bytes, 16 more
        card.expect(hex("00 C0 00 00 10"), concat(repeat(0x02, 16), hex("61 02")));       // 16 bytes, 2 more
        card.expect(hex("00 C0 00 00 02"), hex("03 03 90 00"));                           // the last 2
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kComputeSignature, hex("00"), 256));

        CHECK(response.sw() == 0x9000);
        CHECK(response.data() == concat(concat(repeat(0x01, 4), repeat(0x02, 16)), repeat(0x03, 2)));
    }

    TEST_CASE("6Cxx makes the channel resend the same command once with Le = xx")
    {
        ScriptedTransport card;
        card.expect(hex("00 B0 00 00 04"), hex("6C 02"));        // only 2 bytes left in the file
        card.expect(hex("00 B0 00 00 02"), hex("30 00 90 00"));  // same READ BINARY, Le 2
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kReadBinary, {}, 4));

        CHECK(response.data() == hex("30 00"));
        CHECK(response.sw() == 0x9000);
        CHECK(card.finished());
    }

    TEST_CASE("6C00 means Le 256")
    {
        ScriptedTransport card;
        card.expect(hex("00 B0 00 00 10"), hex("6C 00"));
        card.expect(hex("00 B0 00 00 00"), concat(repeat(0x11, 256), hex("90 00")));
        ApduChannel channel(card);

        CHECK(channel.transmit(CommandApdu(kReadBinary, {}, 16)).data().size() == 256);
    }

    TEST_CASE("a second 6Cxx is returned to the caller instead of looping")
    {
        ScriptedTransport card;
        card.expect(hex("00 B0 00 00 04"), hex("6C 02"));
        card.expect(hex("00 B0 00 00 02"), hex("6C 01"));  // a confused card
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kReadBinary, {}, 4));

        CHECK(response.sw() == 0x6C01);
        CHECK(card.finished());
    }

    TEST_CASE("6Cxx to a command without Le is the card's answer: a PIN-carrying command is never re-sent")
    {
        // VERIFY with a PIN block, CHANGE REFERENCE DATA, RESET RETRY COUNTER:
        // no Le, so no wrong Le; sending them again would spend a second try.
        const Bytes pinBlock = hex("31 32 33 34 FF FF FF FF FF FF FF FF FF FF FF FF");
        for (const ApduHeader header : {ApduHeader{0x00, 0x20, 0x00, 0x81}, ApduHeader{0x00, 0x24, 0x00, 0x81},
                                        ApduHeader{0x00, 0x2C, 0x00, 0x81}}) {
            const Bytes data = header.ins == 0x20 ? pinBlock : concat(pinBlock, pinBlock);
            ScriptedTransport card;
            card.expect(CommandApdu(header, data).encode(), hex("6C 10"));
            ApduChannel channel(card);

            const auto response = channel.transmit(CommandApdu(header, data));

            CHECK(response.sw() == 0x6C10);
            CHECK(card.sent() == 1);
            CHECK(card.finished());
        }
    }

    TEST_CASE("6Cxx to a command without data or Le (VERIFY without data) is returned too")
    {
        ScriptedTransport card;
        card.expect(hex("00 20 00 81"), hex("6C 00"));
        ApduChannel channel(card);

        CHECK(channel.transmit(CommandApdu(ApduHeader{0x00, 0x20, 0x00, 0x81})).sw() == 0x6C00);
        CHECK(card.sent() == 1);
    }

    TEST_CASE("error status words pass through untouched")
    {
        ScriptedTransport card;
        card.expect(hex("00 2A 9E 9A 01 00 00"), hex("69 82"));  // PIN not verified
        ApduChannel channel(card);

        const auto response = channel.transmit(CommandApdu(kComputeSignature, hex("00"), 256));

        CHECK(response.sw() == 0x6982);
        CHECK(response.data().empty());
    }

    TEST_CASE("a card that answers 6100 forever is cut off with a card error")
    {
        class EndlessCard final : public inkan::pcsc::ApduTransport {
        public:
            Bytes transmit(ByteView) override
            {
                ++sent;
                return hex("61 00");  // "256 more bytes", but never any data
            }
            int sent = 0;
        } card;
        ApduChannel channel(card);

        try {
            channel.transmit(CommandApdu(kComputeSignature, hex("00"), 256));
            FAIL("expected an error");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::CardError);
        }
        CHECK(card.sent == 1 + ApduChannel::kMaxGetResponseRounds);
    }

    TEST_CASE("a transport error (card removed) reaches the caller as is")
    {
        class RemovedCard final : public inkan::pcsc::ApduTransport {
        public:
            Bytes transmit(ByteView) override { throw Error(ErrorCode::CardRemoved, "the card was removed"); }
        } card;
        ApduChannel channel(card);

        try {
            channel.transmit(CommandApdu(kReadBinary, {}, 1));
            FAIL("expected an error");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::CardRemoved);
        }
    }
}

// The PC/SC side of the transport: every SCard return code is translated in
// one place (daemon/pcsc/scard_call.*).
TEST_SUITE("scardCall")
{
    ErrorCode codeFor(LONG result)
    {
        try {
            inkan::pcsc::scardCall("SCardTest", result);
        } catch (const Error& e) {
            return e.code();
        }
        FAIL("no error for ", result);
        return ErrorCode::Internal;
    }

    TEST_CASE("success passes, and so do the codes the caller handles itself")
    {
        CHECK(inkan::pcsc::scardCall("SCardTest", SCARD_S_SUCCESS) == SCARD_S_SUCCESS);
        CHECK(inkan::pcsc::scardCall("SCardTest", SCARD_E_CANCELLED, {SCARD_E_TIMEOUT, SCARD_E_CANCELLED})
              == SCARD_E_CANCELLED);
    }

    TEST_CASE("pcscd gone, including a socket broken while waiting, is PcscUnavailable")
    {
        CHECK(codeFor(SCARD_E_NO_SERVICE) == ErrorCode::PcscUnavailable);
        CHECK(codeFor(SCARD_E_SERVICE_STOPPED) == ErrorCode::PcscUnavailable);
        CHECK(codeFor(SCARD_F_COMM_ERROR) == ErrorCode::PcscUnavailable);
    }

    TEST_CASE("a removed or absent card is CardRemoved")
    {
        CHECK(codeFor(SCARD_W_REMOVED_CARD) == ErrorCode::CardRemoved);
        CHECK(codeFor(SCARD_E_NO_SMARTCARD) == ErrorCode::CardRemoved);
    }

    TEST_CASE("a vanished reader is ReaderUnavailable, a card held by another application Busy")
    {
        CHECK(codeFor(SCARD_E_READER_UNAVAILABLE) == ErrorCode::ReaderUnavailable);
        CHECK(codeFor(SCARD_E_UNKNOWN_READER) == ErrorCode::ReaderUnavailable);
        CHECK(codeFor(SCARD_E_SHARING_VIOLATION) == ErrorCode::Busy);
        CHECK(codeFor(SCARD_E_NOT_TRANSACTED) == ErrorCode::Busy);
    }

    TEST_CASE("a reset card is its own error type, so the connection can reconnect")
    {
        CHECK_THROWS_AS(inkan::pcsc::scardCall("SCardTransmit", SCARD_W_RESET_CARD), inkan::pcsc::CardResetError);
    }

    TEST_CASE("a mute card is a card error, anything unknown Internal")
    {
        CHECK(codeFor(SCARD_W_UNRESPONSIVE_CARD) == ErrorCode::CardError);
        CHECK(codeFor(SCARD_E_INVALID_HANDLE) == ErrorCode::Internal);
        CHECK(codeFor(static_cast<LONG>(0x12345678)) == ErrorCode::Internal);
    }
}
