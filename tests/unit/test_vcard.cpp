// Unit tests of the virtual reference card: every row of docs/reference-card.md,
// driven through VirtualCard::transmit exactly as vpcd would.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/vcard_state.hpp"
#include "tools/vcard/card_store.hpp"
#include "tools/vcard/openssl_handles.hpp"
#include "tools/vcard/virtual_card.hpp"

namespace fs = std::filesystem;
using namespace inkan::vcard;

namespace {

// ---- Commands of the spec, as hex --------------------------------------------------
constexpr std::string_view kSelectApp = "00A4040C07F0494E4B414E01";
constexpr std::string_view kSelectAppWithFci = "00A4040007F0494E4B414E01";
constexpr std::string_view kSelectSigningCert = "00A4020C02C001";
constexpr std::string_view kSelectCaCert = "00A4020C02C002";
constexpr std::string_view kSelectSerial = "00A4020C02D001";
constexpr std::string_view kVerifyStatusUser = "00200081";
constexpr std::string_view kVerifyStatusUnblock = "00200082";
constexpr std::string_view kMseSet = "002241B606800102840101";
constexpr std::string_view kGetResponseAll = "00C0000000";

// DigestInfo prefixes (RFC 8017 §9.2 note 1).
constexpr std::string_view kSha256Prefix = "3031300D060960864801650304020105000420";
constexpr std::string_view kSha384Prefix = "3041300D060960864801650304020205000430";
constexpr std::string_view kSha512Prefix = "3051300D060960864801650304020305000440";

/// A temp dir named for this file's tests.
struct TempDir : inkan::test::TempDir {
    TempDir() : inkan::test::TempDir("inkan-vcard-test") {}
};

fs::path freshStateIn(const TempDir& tmp)
{
    const fs::path state = tmp.path / "state";
    fs::copy(inkan::test::generatedCardState(), state, fs::copy_options::recursive);
    return state;
}

std::string hexOf(ByteView b)
{
    return toHex(b);
}

/// "1234" -> 16-byte PIN block hex: ASCII digits padded with FF.
std::string pinBlock(std::string_view digits)
{
    std::string out;
    for (const char c : digits) out += toHex(ByteView(reinterpret_cast<const std::uint8_t*>(&c), 1));
    for (std::size_t i = digits.size(); i < 16; ++i) out += "FF";
    return out;
}

std::string verifyCommand(std::string_view pin)
{
    return "0020008110" + pinBlock(pin);
}

Bytes sha(const EVP_MD* md, std::string_view message)
{
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    REQUIRE(EVP_Digest(message.data(), message.size(), out.data(), &len, md, nullptr) == 1);
    out.resize(len);
    return out;
}

std::string psoCommand(std::string_view digestInfoHex)
{
    const auto bytes = fromHex(digestInfoHex);
    REQUIRE(bytes);
    const auto lc = static_cast<std::uint8_t>(bytes->size());
    return "002A9E9A" + toHex(ByteView(&lc, 1)) + std::string(digestInfoHex) + "00";
}

/// A powered card over its own copy of the demo state.
struct CardFixture {
    TempDir tmp;
    fs::path state = freshStateIn(tmp);
    CardStore store = CardStore::open(StoreOptions{state, {}, {}, {}, {}});
    VirtualCard card{store};

    CardFixture() { card.powerOn(); }

    /// Sends one APDU given as hex; returns the whole response as hex.
    std::string send(std::string_view apduHex)
    {
        const auto apdu = fromHex(apduHex);
        REQUIRE_MESSAGE(apdu, "bad test hex: " << apduHex);
        return hexOf(card.transmit(*apdu));
    }

    /// Sends one APDU and returns only its status word.
    std::string sw(std::string_view apduHex)
    {
        const auto r = send(apduHex);
        REQUIRE(r.size() >= 4);
        return r.substr(r.size() - 4);
    }

    /// READ BINARY of the whole current EF in 200-byte chunks, honouring 6Cxx.
    Bytes readWholeFile()
    {
        Bytes out;
        for (;;) {
            std::string cmd = "00B0" + toHex(Bytes{static_cast<std::uint8_t>(out.size() >> 8),
                                                   static_cast<std::uint8_t>(out.size() & 0xFF), 0xC8});
            std::string r = send(cmd);
            if (r == "6B00") return out;
            if (r.starts_with("6C")) r = send(cmd.substr(0, 8) + r.substr(2, 2));
            REQUIRE(r.ends_with("9000"));
            const auto data = fromHex(r.substr(0, r.size() - 4));
            out.insert(out.end(), data->begin(), data->end());
        }
    }

    void selectAppAndVerify()
    {
        REQUIRE(sw(kSelectApp) == "9000");
        REQUIRE(sw(verifyCommand("1234")) == "9000");
    }
};

/// Verifies `signature` over `message` with the public key of the EF C001 certificate.
bool signatureVerifies(const Bytes& certDer, const EVP_MD* md, std::string_view message, const Bytes& signature)
{
    const unsigned char* p = certDer.data();
    ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(certDer.size())));
    REQUIRE(cert);
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, X509_get0_pubkey(cert.get())) == 1);
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

}  // namespace

TEST_SUITE("vcard.atr")
{
    TEST_CASE("the ATR is the spec's, and its TCK is the XOR of T0 through the last historical byte")
    {
        const ByteView atr = VirtualCard::atr();
        CHECK(toHex(atr) == "3B888001494E4B414E5643316E");
        std::uint8_t x = 0;
        for (std::size_t i = 1; i + 1 < atr.size(); ++i) x ^= atr[i];
        CHECK(x == atr.back());
    }
}

TEST_SUITE("vcard.select")
{
    TEST_CASE("SELECT of the application by AID: 9000 with P2 0C or without Le; P2 00 with Le answers the FCI")
    {
        CardFixture f;
        CHECK(f.send(kSelectApp) == "9000");
        CHECK(f.send(kSelectAppWithFci) == "9000");
        CHECK(f.send("00A4040C07F0494E4B414E0100") == "9000");  // P2 0C: no data even with Le
        // 6F { 84 AID, A5 { 81 01 0A, 82 01 0A } }: both PINs have 10 tries.
        CHECK(f.send("00A4040007F0494E4B414E0100") == "6F118407F0494E4B414E01A50681010A82010A9000");
        CHECK(f.send("00A4040007F0494E4B414E0110") == "6C13");  // Le too short for its 19 bytes
    }

    TEST_CASE("a card made with another maximum tells it in the FCI and counts from it")
    {
        TempDir tmp;
        const fs::path shared = inkan::test::generatedCardState();
        CardStore store = CardStore::open(
            StoreOptions{tmp.path / "s", shared / "signing-key.pem", shared / "signing-cert.pem", {}, {}, 5});
        VirtualCard card{store};
        card.powerOn();
        const auto send = [&](std::string_view apdu) { return hexOf(card.transmit(*fromHex(apdu))); };
        CHECK(send("00A4040007F0494E4B414E0100") == "6F118407F0494E4B414E01A5068101058201059000");
        CHECK(send("00200081") == "63C5");
        CHECK(send("00200082") == "63C5");
        CHECK(send("002000811039393939FFFFFFFFFFFFFFFFFFFFFFFF") == "63C4");
        CHECK(send("002000811031323334FFFFFFFFFFFFFFFFFFFFFFFF") == "9000");
        CHECK(send("00200081") == "9000");  // verified; the counter is back at 5
    }

    TEST_CASE("SELECT of another AID answers 6A82 and keeps the current selection")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw("00A4040C07F0494E4B414E02") == "6A82");
        CHECK(f.sw("00A4040C06F0494E4B414E") == "6A82");
        CHECK(f.sw(kSelectSigningCert) == "9000");
    }

    TEST_CASE("SELECT EF before the application is selected answers 6985")
    {
        CardFixture f;
        CHECK(f.sw(kSelectSigningCert) == "6985");
        CHECK(f.sw(kSelectSerial) == "6985");
    }

    TEST_CASE("SELECT EF finds C001, C002 and D001 and answers 6A82 for anything else")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw(kSelectSigningCert) == "9000");
        CHECK(f.sw(kSelectCaCert) == "9000");
        CHECK(f.sw(kSelectSerial) == "9000");
        CHECK(f.sw("00A4020C02C003") == "6A82");
        CHECK(f.sw("00A4020C023F00") == "6A82");
    }

    TEST_CASE("SELECT with a wrong P1 or P2 answers 6A86; an EF id that is not 2 bytes answers 6700")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw("00A4000C023F00") == "6A86");
        CHECK(f.sw("00A4080C02C001") == "6A86");
        CHECK(f.sw("00A4040407F0494E4B414E01") == "6A86");
        CHECK(f.sw("00A4020C01C0") == "6700");
        CHECK(f.sw("00A4020C03C00100") == "6700");
        CHECK(f.sw("00A4040C") == "6700");  // no AID at all
    }
}

TEST_SUITE("vcard.read_binary")
{
    TEST_CASE("READ BINARY without a selected EF answers 6986")
    {
        CardFixture f;
        CHECK(f.sw("00B0000010") == "6986");
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw("00B0000010") == "6986");
    }

    TEST_CASE("EF C001 read in chunks is the signing certificate's DER; its header gives the length")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSigningCert) == "9000");
        const std::string header = f.send("00B0000004");
        REQUIRE(header.size() == 12);
        CHECK(header.substr(0, 4) == "3082");  // SEQUENCE, two length bytes
        const auto declared = std::stoul(header.substr(4, 4), nullptr, 16) + 4;
        const Bytes der = f.readWholeFile();
        CHECK(der == f.store.signingCertificate());
        CHECK(der.size() == declared);
    }

    TEST_CASE("EF D001 is the 8-byte card serial and EF C002 the CA certificate")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        CHECK(f.send("00B0000008") == toHex(f.store.serial()) + "9000");
        REQUIRE(f.sw(kSelectCaCert) == "9000");
        REQUIRE(f.store.caCertificate());
        CHECK(f.readWholeFile() == *f.store.caCertificate());
    }

    TEST_CASE("Le beyond the end answers 6Cxx with the bytes left; the resend with Le = xx succeeds")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        CHECK(f.send("00B0000010") == "6C08");
        CHECK(f.send("00B0000500") == "6C03");  // Le 00 = 256
        CHECK(f.send("00B0000503") == toHex(ByteView(f.store.serial()).subspan(5)) + "9000");
    }

    TEST_CASE("an offset at or past the end answers 6B00")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        CHECK(f.sw("00B0000801") == "6B00");
        CHECK(f.sw("00B07FFF01") == "6B00");
    }

    TEST_CASE("Le 00 reads 256 bytes")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSigningCert) == "9000");
        const std::string r = f.send("00B0000000");
        CHECK(r.size() == 2 * 256 + 4);
        CHECK(r.ends_with("9000"));
    }

    TEST_CASE("READ BINARY with P1 bit 8 set answers 6A86; with a data field or no Le, 6700")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        CHECK(f.sw("00B0810001") == "6A86");
        CHECK(f.sw("00B00000") == "6700");
        CHECK(f.sw("00B000000100") == "6700");
    }

    TEST_CASE("the selected EF is forgotten when the application is selected again")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw("00B0000001") == "6986");
    }
}

TEST_SUITE("vcard.verify")
{
    TEST_CASE("VERIFY without data reports 63CA and spends no try, however often it is sent")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        for (int i = 0; i < 12; ++i) CHECK(f.sw(kVerifyStatusUser) == "63CA");
        CHECK(f.sw(kVerifyStatusUnblock) == "63CA");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
    }

    TEST_CASE("VERIFY without data in the T=0 form (P3 = 00) is also a status query")
    {
        CardFixture f;
        CHECK(f.sw("0020008100") == "63CA");
        CHECK(f.sw("0020008110") == "6700");  // Lc 16 announced, no data
    }

    TEST_CASE("the right PIN answers 9000 and VERIFY without data then answers 9000")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw(verifyCommand("1234")) == "9000");
        CHECK(f.sw(kVerifyStatusUser) == "9000");
        CHECK(f.sw(kVerifyStatusUnblock) == "63CA");  // the unblock code is not verified
    }

    TEST_CASE("wrong PINs count down 63C9 .. 63C0, then the PIN is blocked: 6983")
    {
        CardFixture f;
        for (int left = 9; left >= 0; --left) {
            CAPTURE(left);
            CHECK(f.sw(verifyCommand("9999")) == "63C" + std::string(1, "0123456789"[left]));
        }
        CHECK(f.sw(verifyCommand("9999")) == "6983");
        CHECK(f.sw(verifyCommand("1234")) == "6983");  // even the right PIN
        CHECK(f.sw(kVerifyStatusUser) == "6983");
        CHECK(f.store.triesLeft(PinReference::User) == 0);
    }

    TEST_CASE("the right PIN restores the counter to 10")
    {
        CardFixture f;
        CHECK(f.sw(verifyCommand("0000")) == "63C9");
        CHECK(f.sw(verifyCommand("00000")) == "63C8");
        CHECK(f.sw(kVerifyStatusUser) == "63C8");
        CHECK(f.sw(verifyCommand("1234")) == "9000");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
        CHECK(f.sw(verifyCommand("0000")) == "63C9");
    }

    TEST_CASE("a wrong PIN ends an earlier verification")
    {
        CardFixture f;
        REQUIRE(f.sw(verifyCommand("1234")) == "9000");
        CHECK(f.sw(verifyCommand("4321")) == "63C9");
        CHECK(f.sw(kVerifyStatusUser) == "63C9");
    }

    TEST_CASE("malformed PIN blocks answer 6A80 and spend no try")
    {
        CardFixture f;
        for (const std::string& block : {
                 std::string("313233FFFFFFFFFFFFFFFFFFFFFFFFFF"),  // 3 digits: too short
                 std::string("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),  // empty
                 std::string("3132333441FFFFFFFFFFFFFFFFFFFFFF"),  // 'A' is not a digit
                 std::string("31323334FF35FFFFFFFFFFFFFFFFFFFF"),  // digit after padding
                 std::string("3132333400FFFFFFFFFFFFFFFFFFFFFF"),  // 00 padding
                 std::string("31323334000000000000000000000000"),  // zero padding
             }) {
            CAPTURE(block);
            CHECK(f.sw("0020008110" + block) == "6A80");
        }
        CHECK(f.store.triesLeft(PinReference::User) == 10);
        CHECK(f.sw("0020008110" + toHex(Bytes(16, '7'))) == "63C9");  // 16 digits are fine
    }

    TEST_CASE("VERIFY with a block that is not 16 bytes answers 6700 and spends no try")
    {
        CardFixture f;
        CHECK(f.sw("002000810431323334") == "6700");
        CHECK(f.sw("002000811131323334FFFFFFFFFFFFFFFFFFFFFFFFFF") == "6700");
        CHECK(f.sw(verifyCommand("1234") + "00") == "6700");  // case 4 is not VERIFY
        CHECK(f.store.triesLeft(PinReference::User) == 10);
    }

    TEST_CASE("VERIFY with a wrong P1, an unknown reference, or data for the unblock code answers 6A86")
    {
        CardFixture f;
        CHECK(f.sw("0020018110" + pinBlock("1234")) == "6A86");
        CHECK(f.sw("0020008010" + pinBlock("1234")) == "6A86");
        CHECK(f.sw("00200083") == "6A86");
        CHECK(f.sw("0020008210" + pinBlock("12345678")) == "6A86");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
        CHECK(f.store.triesLeft(PinReference::Unblock) == 10);
    }
}

TEST_SUITE("vcard.change")
{
    TEST_CASE("CHANGE REFERENCE DATA with the right old PIN sets the new one")
    {
        CardFixture f;
        CHECK(f.sw("0024008120" + pinBlock("1234") + pinBlock("87654321")) == "9000");
        CHECK(f.sw(verifyCommand("1234")) == "63C9");
        CHECK(f.sw(verifyCommand("87654321")) == "9000");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
    }

    TEST_CASE("CHANGE with a wrong old PIN counts down like VERIFY and keeps the PIN")
    {
        CardFixture f;
        CHECK(f.sw("0024008120" + pinBlock("1111") + pinBlock("2222")) == "63C9");
        CHECK(f.sw("0024008120" + pinBlock("1111") + pinBlock("2222")) == "63C8");
        CHECK(f.sw(verifyCommand("2222")) == "63C7");
        CHECK(f.sw(verifyCommand("1234")) == "9000");
    }

    TEST_CASE("CHANGE restores the counter to 10 after earlier wrong tries")
    {
        CardFixture f;
        REQUIRE(f.sw(verifyCommand("0000")) == "63C9");
        CHECK(f.sw("0024008120" + pinBlock("1234") + pinBlock("5678")) == "9000");
        CHECK(f.sw(kVerifyStatusUser) == "63CA");  // a change does not verify the PIN
    }

    TEST_CASE("CHANGE on a blocked PIN answers 6983")
    {
        CardFixture f;
        for (int i = 0; i < 10; ++i) REQUIRE(f.sw(verifyCommand("0000")).starts_with("63C"));
        CHECK(f.sw("0024008120" + pinBlock("1234") + pinBlock("5678")) == "6983");
    }

    TEST_CASE("CHANGE with a malformed old or new block answers 6A80 and spends no try")
    {
        CardFixture f;
        CHECK(f.sw("0024008120" + pinBlock("1234") + pinBlock("123")) == "6A80");
        CHECK(f.sw("0024008120" + pinBlock("12") + pinBlock("5678")) == "6A80");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
        CHECK(f.sw(verifyCommand("1234")) == "9000");
    }

    TEST_CASE("CHANGE with the wrong length answers 6700; on another reference or P1, 6A86")
    {
        CardFixture f;
        CHECK(f.sw("0024008110" + pinBlock("1234")) == "6700");
        CHECK(f.sw("00240081") == "6700");
        CHECK(f.sw("0024008220" + pinBlock("12345678") + pinBlock("87654321")) == "6A86");
        CHECK(f.sw("0024018110" + pinBlock("5678")) == "6A86");
        CHECK(f.store.triesLeft(PinReference::User) == 10);
    }
}

TEST_SUITE("vcard.reset_retry_counter")
{
    TEST_CASE("RESET RETRY COUNTER with the unblock code unblocks and sets a new PIN with 10 tries")
    {
        CardFixture f;
        for (int i = 0; i < 10; ++i) REQUIRE(f.sw(verifyCommand("0000")).starts_with("63C"));
        REQUIRE(f.sw(kVerifyStatusUser) == "6983");
        CHECK(f.sw("002C008120" + pinBlock("12345678") + pinBlock("2468")) == "9000");
        CHECK(f.sw(kVerifyStatusUser) == "63CA");
        CHECK(f.sw(verifyCommand("1234")) == "63C9");
        CHECK(f.sw(verifyCommand("2468")) == "9000");
    }

    TEST_CASE("wrong unblock codes count down their own counter 63C9 .. 63C0, then 6983")
    {
        CardFixture f;
        for (int left = 9; left >= 0; --left) {
            CAPTURE(left);
            CHECK(f.sw("002C008120" + pinBlock("00000000") + pinBlock("2468")) ==
                  "63C" + std::string(1, "0123456789"[left]));
        }
        CHECK(f.sw(kVerifyStatusUnblock) == "6983");
        CHECK(f.sw("002C008120" + pinBlock("12345678") + pinBlock("2468")) == "6983");
        // The user PIN is untouched by all this.
        CHECK(f.sw(kVerifyStatusUser) == "63CA");
        CHECK(f.sw(verifyCommand("1234")) == "9000");
    }

    TEST_CASE("the right unblock code restores its counter to 10")
    {
        CardFixture f;
        REQUIRE(f.sw("002C008120" + pinBlock("00000000") + pinBlock("2468")) == "63C9");
        CHECK(f.sw(kVerifyStatusUnblock) == "63C9");
        CHECK(f.sw("002C008120" + pinBlock("12345678") + pinBlock("2468")) == "9000");
        CHECK(f.sw(kVerifyStatusUnblock) == "63CA");
    }

    TEST_CASE("RESET RETRY COUNTER with a malformed block answers 6A80 and spends no try")
    {
        CardFixture f;
        CHECK(f.sw("002C008120" + pinBlock("1234567") + pinBlock("2468")) == "6A80");   // 7 digits
        CHECK(f.sw("002C008120" + pinBlock("123456789") + pinBlock("2468")) == "6A80");  // 9 digits
        CHECK(f.sw("002C008120" + pinBlock("12345678") + pinBlock("246")) == "6A80");
        CHECK(f.store.triesLeft(PinReference::Unblock) == 10);
    }

    TEST_CASE("RESET RETRY COUNTER with the wrong length answers 6700; other P1/P2, 6A86")
    {
        CardFixture f;
        CHECK(f.sw("002C008110" + pinBlock("12345678")) == "6700");
        CHECK(f.sw("002C0081") == "6700");
        CHECK(f.sw("002C018110" + pinBlock("12345678")) == "6A86");
        CHECK(f.sw("002C008220" + pinBlock("12345678") + pinBlock("2468")) == "6A86");
    }
}

TEST_SUITE("vcard.sign")
{
    TEST_CASE("MSE + PSO + GET RESPONSE yield a signature the EF C001 certificate verifies (SHA-256/384/512)")
    {
        struct Case {
            const char* name;
            const EVP_MD* md;
            std::string_view prefix;
        };
        for (const auto& c : {Case{"SHA-256", EVP_sha256(), kSha256Prefix}, Case{"SHA-384", EVP_sha384(), kSha384Prefix},
                              Case{"SHA-512", EVP_sha512(), kSha512Prefix}}) {
            CAPTURE(c.name);
            CardFixture f;
            const std::string message = "登記申請書 for inkan";
            REQUIRE(f.sw(kSelectApp) == "9000");
            REQUIRE(f.sw(kSelectSigningCert) == "9000");
            const Bytes cert = f.readWholeFile();
            REQUIRE(f.sw(verifyCommand("1234")) == "9000");
            REQUIRE(f.sw(kMseSet) == "9000");
            CHECK(f.send(psoCommand(std::string(c.prefix) + toHex(sha(c.md, message)))) == "6100");
            const std::string r = f.send(kGetResponseAll);
            REQUIRE(r.size() == 2 * 256 + 4);
            CHECK(r.ends_with("9000"));
            const Bytes signature = *fromHex(r.substr(0, 512));
            CHECK(signatureVerifies(cert, c.md, message, signature));
            CHECK_FALSE(signatureVerifies(cert, c.md, "another message", signature));
        }
    }

    TEST_CASE("GET RESPONSE hands out the signature in pieces with 61xx until the last")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.send(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6100");
        const std::string first = f.send("00C0000080");
        CHECK(first.size() == 2 * 128 + 4);
        CHECK(first.ends_with("6180"));
        const std::string second = f.send("00C0000064");
        CHECK(second.ends_with("611C"));
        const std::string last = f.send("00C0000040");  // asks for more than is left
        CHECK(last.size() == 2 * 28 + 4);
        CHECK(last.ends_with("9000"));
        CHECK(f.sw(kGetResponseAll) == "6985");  // nothing left
    }

    TEST_CASE("PSO without VERIFY answers 6982")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        REQUIRE(f.sw(kMseSet) == "9000");
        CHECK(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6982");
    }

    TEST_CASE("one VERIFY authorises one signature: the second PSO answers 6982")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        const auto pso = psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")));
        CHECK(f.sw(pso) == "6100");
        CHECK(f.sw(kVerifyStatusUser) == "63CA");
        CHECK(f.sw(pso) == "6982");
        REQUIRE(f.sw(verifyCommand("1234")) == "9000");
        CHECK(f.sw(pso) == "6100");  // the environment is still set
    }

    TEST_CASE("PSO without MSE SET answers 6985, and the attempt spends the verification")
    {
        CardFixture f;
        f.selectAppAndVerify();
        const auto pso = psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")));
        CHECK(f.sw(pso) == "6985");
        REQUIRE(f.sw(kMseSet) == "9000");
        CHECK(f.sw(pso) == "6982");
    }

    TEST_CASE("PSO over anything but a SHA-256/384/512 DigestInfo answers 6A80")
    {
        const std::string sha1DigestInfo = "3021300906052B0E03021A05000414" + std::string(40, '0');
        const std::string noNullParams = "302F300B0609608648016503040201" "0420" + toHex(sha(EVP_sha256(), "x"));
        const std::string bareHash = toHex(sha(EVP_sha256(), "x"));
        const std::string shortHash = std::string(kSha256Prefix) + std::string(62, '0');
        const std::string longHash = std::string(kSha256Prefix) + std::string(66, '0');
        const std::string mixedUp = std::string(kSha384Prefix) + toHex(sha(EVP_sha256(), "x"));
        for (const auto& data : {sha1DigestInfo, noNullParams, bareHash, shortHash, longHash, mixedUp}) {
            CAPTURE(data);
            CardFixture f;
            f.selectAppAndVerify();
            REQUIRE(f.sw(kMseSet) == "9000");
            CHECK(f.sw(psoCommand(data)) == "6A80");
        }
    }

    TEST_CASE("PSO with other P1/P2 answers 6A86; without data, 6700")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        CHECK(f.sw("002A8086" "33" + std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")) + "00") == "6A86");
        CHECK(f.sw("002A9E9A00") == "6700");
    }

    TEST_CASE("MSE SET accepts the spec's template in either order and rejects anything else with 6A80")
    {
        CardFixture f;
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw("002241B606800102840101") == "9000");
        CHECK(f.sw("002241B606840101800102") == "9000");
        CHECK(f.sw("002241B606800101840101") == "6A80");            // algorithm 01
        CHECK(f.sw("002241B606800102840102") == "6A80");            // key 02
        CHECK(f.sw("002241B603800102") == "6A80");                  // no key
        CHECK(f.sw("002241B6098001028401018A0100") == "6A80");      // extra tag
        CHECK(f.sw("002241B609800102840101800102") == "6A80");      // repeated tag
        CHECK(f.sw("002241B60480010284") == "6A80");                // truncated
        CHECK(f.sw("002241B60780020002840101") == "6A80");          // wrong length
    }

    TEST_CASE("a rejected MSE SET leaves no environment: the next PSO answers 6985")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw("002241B606800101840101") == "6A80");
        CHECK(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6985");
    }

    TEST_CASE("MSE with other P1/P2 answers 6A86; without data or with Le, 6700")
    {
        CardFixture f;
        CHECK(f.sw("002281B606800102840101") == "6A86");
        CHECK(f.sw("002241A406800102840101") == "6A86");
        CHECK(f.sw("002241B6") == "6700");
        CHECK(f.sw("002241B60680010284010100") == "6700");
    }

    TEST_CASE("GET RESPONSE with nothing pending answers 6985; another command drops the pending signature")
    {
        CardFixture f;
        CHECK(f.sw(kGetResponseAll) == "6985");
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6100");
        REQUIRE(f.sw(kVerifyStatusUser) == "63CA");
        CHECK(f.sw(kGetResponseAll) == "6985");
    }

    TEST_CASE("GET RESPONSE with other P1/P2 answers 6A86 and keeps the signature; without Le, 6700")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6100");
        CHECK(f.sw("00C0010000") == "6A86");
        CHECK(f.sw("00C00000") == "6700");
        CHECK(f.sw(kGetResponseAll) == "9000");
    }

    TEST_CASE("re-selecting the application clears the security environment but keeps the verification")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw(kVerifyStatusUser) == "9000");
        CHECK(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6985");
    }

    TEST_CASE("--latency-ms delays a signing PSO")
    {
        TempDir tmp;
        const auto state = freshStateIn(tmp);
        auto store = CardStore::open(StoreOptions{state, {}, {}, {}, {}});
        VirtualCard card(store, CardOptions{std::chrono::milliseconds(120)});
        const auto send = [&](std::string_view hex) { return toHex(card.transmit(*fromHex(hex))); };
        REQUIRE(send(kSelectApp) == "9000");
        REQUIRE(send(verifyCommand("1234")) == "9000");
        REQUIRE(send(kMseSet) == "9000");
        const auto start = std::chrono::steady_clock::now();
        CHECK(send(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6100");
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(120));
    }
}

TEST_SUITE("vcard.power")
{
    TEST_CASE("power-off ends the verification, the selection and the security environment")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw(kSelectSerial) == "9000");
        f.card.powerOff();
        f.card.powerOn();
        CHECK(f.sw("00B0000008") == "6986");
        CHECK(f.sw(kSelectSerial) == "6985");
        REQUIRE(f.sw(kSelectApp) == "9000");
        CHECK(f.sw(kVerifyStatusUser) == "63CA");
        const auto pso = psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")));
        CHECK(f.sw(pso) == "6982");
        REQUIRE(f.sw(verifyCommand("1234")) == "9000");
        CHECK(f.sw(pso) == "6985");  // MSE must be sent again after power-off
    }

    TEST_CASE("reset ends the verification too, and drops a pending signature")
    {
        CardFixture f;
        f.selectAppAndVerify();
        REQUIRE(f.sw(kMseSet) == "9000");
        REQUIRE(f.sw(psoCommand(std::string(kSha256Prefix) + toHex(sha(EVP_sha256(), "x")))) == "6100");
        f.card.reset();
        CHECK(f.sw(kGetResponseAll) == "6985");
        REQUIRE(f.sw(verifyCommand("1234")) == "9000");
        f.card.reset();
        CHECK(f.sw(kVerifyStatusUser) == "63CA");
    }

    TEST_CASE("power-off does not restore PIN tries")
    {
        CardFixture f;
        REQUIRE(f.sw(verifyCommand("0000")) == "63C9");
        f.card.powerOff();
        f.card.powerOn();
        CHECK(f.sw(kVerifyStatusUser) == "63C9");
    }
}

TEST_SUITE("vcard.malformed")
{
    TEST_CASE("an unknown class byte answers 6E00")
    {
        CardFixture f;
        CHECK(f.sw("80A4040C07F0494E4B414E01") == "6E00");
        CHECK(f.sw("0CA4040C07F0494E4B414E01") == "6E00");
        CHECK(f.sw("10A4040C07F0494E4B414E01") == "6E00");  // chaining is not supported
        CHECK(f.sw("FF00000000") == "6E00");
    }

    TEST_CASE("an unknown instruction answers 6D00")
    {
        CardFixture f;
        CHECK(f.sw("00880000") == "6D00");  // INTERNAL AUTHENTICATE
        CHECK(f.sw("00B1000000") == "6D00");
        CHECK(f.sw("00CA9F7F00") == "6D00");
    }

    TEST_CASE("APDUs shorter than a header or with inconsistent lengths answer 6700")
    {
        CardFixture f;
        CHECK(f.send("") == "6700");
        CHECK(f.send("00") == "6700");
        CHECK(f.send("00A404") == "6700");
        CHECK(f.sw("00A4040C08F0494E4B414E01") == "6700");      // Lc says 8, 7 follow
        CHECK(f.sw("00A4040C05F0494E4B414E01") == "6700");      // Lc says 5, 7 follow
        CHECK(f.sw("00A4040C0007F0494E4B414E01") == "6700");  // extended length
        CHECK(f.sw("00B000000100") == "6700");
    }

    TEST_CASE("a garbage stream never crashes the card and always answers two status bytes")
    {
        CardFixture f;
        std::uint32_t x = 0x12345678;
        for (int i = 0; i < 3000; ++i) {
            x = x * 1103515245 + 12345;
            Bytes apdu((x >> 8) % 40);
            for (auto& b : apdu) {
                x = x * 1103515245 + 12345;
                b = static_cast<std::uint8_t>(x >> 16);
            }
            if (!apdu.empty() && (x & 1)) apdu[0] = 0x00;  // reach the instructions too
            const Bytes r = f.card.transmit(apdu);
            REQUIRE(r.size() >= 2);
        }
    }
}

TEST_SUITE("vcard.persistence")
{
    TEST_CASE("PIN counters, PIN changes and blocking survive a new card from the same state dir")
    {
        TempDir tmp;
        const auto state = freshStateIn(tmp);
        const StoreOptions options{state, {}, {}, {}, {}};
        {
            auto store = CardStore::open(options);
            VirtualCard card(store);
            CHECK(toHex(card.transmit(*fromHex(verifyCommand("0000")))) == "63C9");
            CHECK(toHex(card.transmit(*fromHex(verifyCommand("0000")))) == "63C8");
        }
        {
            auto store = CardStore::open(options);
            VirtualCard card(store);
            CHECK(toHex(card.transmit(*fromHex(kVerifyStatusUser))) == "63C8");
            CHECK(toHex(card.transmit(*fromHex("0024008120" + pinBlock("1234") + pinBlock("975310")))) == "9000");
        }
        {
            auto store = CardStore::open(options);
            VirtualCard card(store);
            CHECK(toHex(card.transmit(*fromHex(verifyCommand("1234")))) == "63C9");
            CHECK(toHex(card.transmit(*fromHex(verifyCommand("975310")))) == "9000");
            for (int i = 0; i < 10; ++i) (void)card.transmit(*fromHex(verifyCommand("0000")));
            CHECK(toHex(card.transmit(*fromHex(kVerifyStatusUser))) == "6983");
        }
        {
            auto store = CardStore::open(options);
            VirtualCard card(store);
            CHECK(toHex(card.transmit(*fromHex(kVerifyStatusUser))) == "6983");
        }
    }

    TEST_CASE("the verification itself is not persisted")
    {
        TempDir tmp;
        const StoreOptions options{freshStateIn(tmp), {}, {}, {}, {}};
        {
            auto store = CardStore::open(options);
            VirtualCard card(store);
            REQUIRE(toHex(card.transmit(*fromHex(verifyCommand("1234")))) == "9000");
        }
        auto store = CardStore::open(options);
        VirtualCard card(store);
        CHECK(toHex(card.transmit(*fromHex(kVerifyStatusUser))) == "63CA");
    }
}
