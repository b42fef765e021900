// Unit tests of the virtual JPKI card: the command set of docs/jpki.md, driven
// through JpkiCard::transmit exactly as vpcd would.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/vcard_state.hpp"
#include "tools/vcard/event_log.hpp"
#include "tools/vcard/jpki_card.hpp"
#include "tools/vcard/jpki_store.hpp"
#include "tools/vcard/openssl_handles.hpp"
#include "tools/vcard/vpcd_link.hpp"

namespace fs = std::filesystem;
using namespace inkan::vcard;
using inkan::vcard::jpki::JpkiCard;
using inkan::vcard::jpki::JpkiStore;
using inkan::vcard::jpki::KeyPair;

namespace {

// ---- Commands of docs/jpki.md, as hex -----------------------------------------------
constexpr std::string_view kSelectAp = "00A4040C0AD392F000260100000001";
constexpr std::string_view kSelectSignCert = "00A4020C020001";
constexpr std::string_view kSelectSignCaCert = "00A4020C020002";
constexpr std::string_view kSelectTokenInfo = "00A4020C020006";
constexpr std::string_view kSelectAuthCert = "00A4020C02000A";
constexpr std::string_view kSelectAuthCaCert = "00A4020C02000B";
constexpr std::string_view kSelectAuthKey = "00A4020C020017";
constexpr std::string_view kSelectAuthPin = "00A4020C020018";
constexpr std::string_view kSelectSignKey = "00A4020C02001A";
constexpr std::string_view kSelectSignPin = "00A4020C02001B";
constexpr std::string_view kPinStatus = "00200080";
constexpr std::string_view kGetResponseAll = "00C0000000";
constexpr std::string_view kSha256Prefix = "3031300D060960864801650304020105000420";

struct TempDir : inkan::test::TempDir {
    TempDir() : inkan::test::TempDir("inkan-vcard-jpki-test") {}
};

std::string asciiHex(std::string_view text)
{
    return toHex(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string lcHex(std::size_t n)
{
    const auto b = static_cast<std::uint8_t>(n);
    return toHex(ByteView(&b, 1));
}

std::string verifyCommand(std::string_view pin)
{
    return "00200080" + lcHex(pin.size()) + asciiHex(pin);
}

Bytes sha256(std::string_view message)
{
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    REQUIRE(EVP_Digest(message.data(), message.size(), out.data(), &len, EVP_sha256(), nullptr) == 1);
    out.resize(len);
    return out;
}

std::string digestInfoHex(std::string_view message)
{
    return std::string(kSha256Prefix) + toHex(sha256(message));
}

/// 80 2A 00 80 Lc <DigestInfo> [Le].
std::string signCommand(std::string_view message, std::string_view le = "00")
{
    const std::string di = digestInfoHex(message);
    return "802A0080" + lcHex(di.size() / 2) + di + std::string(le);
}

bool signatureVerifies(const Bytes& certDer, std::string_view message, const Bytes& signature)
{
    const unsigned char* p = certDer.data();
    ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(certDer.size())));
    REQUIRE(cert);
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(cert.get())) == 1);
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

/// A powered JPKI card over its own copy of the demo state.
struct JpkiFixture {
    TempDir tmp;
    fs::path state = [this] {
        const fs::path p = tmp.path / "state";
        fs::copy(inkan::test::generatedJpkiState(), p, fs::copy_options::recursive);
        return p;
    }();
    JpkiStore store = JpkiStore::open(state);
    JpkiCard card{store};

    JpkiFixture() { card.powerOn(); }

    std::string send(std::string_view apduHex)
    {
        const auto apdu = fromHex(apduHex);
        REQUIRE_MESSAGE(apdu, "bad test hex: " << apduHex);
        return toHex(card.transmit(*apdu));
    }

    std::string sw(std::string_view apduHex)
    {
        const auto r = send(apduHex);
        REQUIRE(r.size() >= 4);
        return r.substr(r.size() - 4);
    }

    /// Data of a response that must end in `expectedSw`.
    Bytes data(std::string_view apduHex, std::string_view expectedSw = "9000")
    {
        const auto r = send(apduHex);
        REQUIRE_MESSAGE(r.ends_with(expectedSw), apduHex << " -> " << r);
        return *fromHex(r.substr(0, r.size() - 4));
    }

    /// The current EF as OpenSC reads it: a 4-byte header for the size, then chunks of <= 256.
    Bytes readLikeOpensc()
    {
        const Bytes header = data("00B0000004");
        REQUIRE(header.size() == 4);
        REQUIRE(header[0] == 0x30);
        REQUIRE(header[1] == 0x82);
        const std::size_t size = (static_cast<std::size_t>(header[2]) << 8 | header[3]) + 4;
        Bytes out;
        while (out.size() < size) {
            const std::size_t n = std::min<std::size_t>(256, size - out.size());
            const Bytes chunk = data("00B0" + toHex(Bytes{static_cast<std::uint8_t>(out.size() >> 8),
                                                          static_cast<std::uint8_t>(out.size() & 0xFF),
                                                          static_cast<std::uint8_t>(n & 0xFF)}));
            REQUIRE(chunk.size() == n);
            out.insert(out.end(), chunk.begin(), chunk.end());
        }
        return out;
    }

    void verifySign()
    {
        REQUIRE(sw(kSelectAp) == "9000");
        REQUIRE(sw(kSelectSignPin) == "9000");
        REQUIRE(sw(verifyCommand(jpki::kDemoSignPin)) == "9000");
    }

    void verifyAuth()
    {
        REQUIRE(sw(kSelectAp) == "9000");
        REQUIRE(sw(kSelectAuthPin) == "9000");
        REQUIRE(sw(verifyCommand(jpki::kDemoAuthPin)) == "9000");
    }

    int triesOnDisk(KeyPair pin) const { return JpkiStore::open(state).triesLeft(pin); }
};

}  // namespace

TEST_SUITE("vcard.jpki.atr")
{
    TEST_CASE("the ATR is OpenSC's jpki_atrs entry, and TCK is the XOR of T0 through the byte before it")
    {
        const ByteView atr = JpkiCard::atr();
        CHECK(toHex(atr) == "3BE000FF8131FE4514");
        std::uint8_t x = 0;
        for (std::size_t i = 1; i + 1 < atr.size(); ++i) x ^= atr[i];
        CHECK(x == atr.back());
    }

    TEST_CASE("vpcd's ATR request is answered with the JPKI ATR, APDUs reach the JPKI card")
    {
        JpkiFixture f;
        EventLog log;
        const auto atr = vpcd::handleMessage(f.card, log, Bytes{0x04});
        REQUIRE(atr);
        CHECK(toHex(*atr) == "3BE000FF8131FE4514");
        CHECK(toHex(*vpcd::handleMessage(f.card, log, *fromHex(kSelectAp))) == "9000");
    }
}

TEST_SUITE("vcard.jpki.select")
{
    TEST_CASE("SELECT of the JPKI AP answers 9000 (P2 0C or 00); another AID 6A82")
    {
        JpkiFixture f;
        CHECK(f.send(kSelectAp) == "9000");
        CHECK(f.send("00A404000AD392F000260100000001") == "9000");
        CHECK(f.send("00A4040C0AD392F000260100000002") == "6A82");
        CHECK(f.send("00A4040C06D392F000260100AA") == "6700");  // Lc says 6, 8 bytes follow
        CHECK(f.send("00A4040C06D392F0002601") == "6A82");
        CHECK(f.send("00A4040407D392F00026010000") == "6A86");
    }

    TEST_CASE("every EF of the map is found inside the AP; nothing before it; unknown FIDs 6A82")
    {
        JpkiFixture f;
        CHECK(f.sw(kSelectAuthCert) == "6A82");
        REQUIRE(f.sw(kSelectAp) == "9000");
        for (const auto ef : {kSelectSignCert, kSelectSignCaCert, kSelectTokenInfo, kSelectAuthCert, kSelectAuthCaCert,
                              kSelectAuthKey, kSelectAuthPin, kSelectSignKey, kSelectSignPin})
            CHECK_MESSAGE(f.sw(ef) == "9000", ef);
        CHECK(f.sw("00A4020C020003") == "6A82");
        CHECK(f.sw("00A4020C023F00") == "6A82");
        CHECK(f.sw("00A4020C0300") == "6700");
    }
}

TEST_SUITE("vcard.jpki.read")
{
    TEST_CASE("EF 0006 is the token info JPKIAPICCTOKEN2, space-padded to 32 bytes")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectTokenInfo) == "9000");
        const Bytes token = f.data("00B0000020");
        CHECK(std::string(token.begin(), token.end()) == "JPKIAPICCTOKEN2                 ");
    }

    TEST_CASE("the auth certificate and both CA certificates read without a PIN, as OpenSC reads them")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectAuthCert) == "9000");
        CHECK(f.readLikeOpensc() == f.store.certificate(KeyPair::Auth));
        REQUIRE(f.sw(kSelectAuthCaCert) == "9000");
        CHECK(f.readLikeOpensc() == f.store.caCertificate(KeyPair::Auth));
        REQUIRE(f.sw(kSelectSignCaCert) == "9000");
        CHECK(f.readLikeOpensc() == f.store.caCertificate(KeyPair::Sign));
    }

    TEST_CASE("the sign certificate answers 6982 until the sign PIN is verified (the auth PIN is not enough)")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignCert) == "9000");
        CHECK(f.sw("00B0000004") == "6982");
        f.verifyAuth();
        REQUIRE(f.sw(kSelectSignCert) == "9000");
        CHECK(f.sw("00B0000004") == "6982");
        f.verifySign();
        REQUIRE(f.sw(kSelectSignCert) == "9000");
        CHECK(f.readLikeOpensc() == f.store.certificate(KeyPair::Sign));
    }

    TEST_CASE("past the end: the bytes left with 6282; at or beyond the end 6B00; no EF 6986; keys and PINs 6981")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        CHECK(f.sw("00B0000004") == "6986");
        REQUIRE(f.sw(kSelectTokenInfo) == "9000");
        CHECK(f.data("00B0001C10", "6282").size() == 4);
        CHECK(f.sw("00B0002001") == "6B00");
        CHECK(f.sw("00B0800001") == "6A86");  // short EF identifier
        for (const auto ef : {kSelectAuthKey, kSelectAuthPin, kSelectSignKey, kSelectSignPin}) {
            REQUIRE(f.sw(ef) == "9000");
            CHECK_MESSAGE(f.sw("00B0000004") == "6981", ef);
        }
    }
}

TEST_SUITE("vcard.jpki.pin")
{
    TEST_CASE("VERIFY without data answers 63C3 / 63C5 and spends no try")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectAuthPin) == "9000");
        for (int i = 0; i < 5; ++i) CHECK(f.sw(kPinStatus) == "63C3");
        REQUIRE(f.sw(kSelectSignPin) == "9000");
        for (int i = 0; i < 5; ++i) CHECK(f.sw(kPinStatus) == "63C5");
        CHECK(f.triesOnDisk(KeyPair::Auth) == 3);
        CHECK(f.triesOnDisk(KeyPair::Sign) == 5);
    }

    TEST_CASE("a wrong PIN spends exactly one try of that PIN, persisted; the right one restores it")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignPin) == "9000");
        CHECK(f.sw(verifyCommand("WRONG1")) == "63C4");
        CHECK(f.triesOnDisk(KeyPair::Sign) == 4);
        CHECK(f.triesOnDisk(KeyPair::Auth) == 3);
        CHECK(f.sw(kPinStatus) == "63C4");
        CHECK(f.sw(verifyCommand(jpki::kDemoSignPin)) == "9000");
        CHECK(f.triesOnDisk(KeyPair::Sign) == 5);
        // Verified: the status query still answers 63Cx (OpenSC needs SW1 63).
        CHECK(f.sw(kPinStatus) == "63C5");
    }

    TEST_CASE("a value outside the PIN's format is a wrong PIN: it spends a try")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignPin) == "9000");
        CHECK(f.sw(verifyCommand("abc123")) == "63C4");
        REQUIRE(f.sw(kSelectAuthPin) == "9000");
        CHECK(f.sw(verifyCommand("12345")) == "63C2");
    }

    TEST_CASE("three wrong auth PINs block it: status 63C0, VERIFY 6983 even with the right PIN; no unblock")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectAuthPin) == "9000");
        CHECK(f.sw(verifyCommand("0000")) == "63C2");
        CHECK(f.sw(verifyCommand("0000")) == "63C1");
        CHECK(f.sw(verifyCommand("0000")) == "63C0");
        CHECK(f.sw(kPinStatus) == "63C0");
        CHECK(f.sw(verifyCommand(jpki::kDemoAuthPin)) == "6983");
        CHECK(f.triesOnDisk(KeyPair::Auth) == 0);
        CHECK(f.triesOnDisk(KeyPair::Sign) == 5);
        CHECK(f.sw("002C000080") == "6D00");      // RESET RETRY COUNTER: not on this card
        CHECK(f.sw("002C0380083132333431323334") == "6D00");
    }

    TEST_CASE("VERIFY needs a selected PIN EF and P1 P2 00 80")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        CHECK(f.sw(kPinStatus) == "6986");
        REQUIRE(f.sw(kSelectAuthCert) == "9000");
        CHECK(f.sw(kPinStatus) == "6981");
        REQUIRE(f.sw(kSelectAuthPin) == "9000");
        CHECK(f.sw("00200081") == "6A86");
        CHECK(f.sw("00200180") == "6A86");
        CHECK(f.triesOnDisk(KeyPair::Auth) == 3);
    }

    TEST_CASE("CHANGE REFERENCE DATA 00 24 01 80 needs the PIN verified and a new value in its format")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignPin) == "9000");
        const std::string change = "00240180" + lcHex(8) + asciiHex("NEWPIN99");
        CHECK(f.sw(change) == "6982");
        REQUIRE(f.sw(verifyCommand(jpki::kDemoSignPin)) == "9000");
        CHECK(f.sw("00240180" + lcHex(5) + asciiHex("SHORT")) == "6A80");
        CHECK(f.sw("00240180" + lcHex(6) + asciiHex("lower1")) == "6A80");
        CHECK(f.sw(change) == "9000");
        // Persisted: after a power cycle and a reopened store, only the new PIN verifies.
        f.card.powerOff();
        JpkiStore reopened = JpkiStore::open(f.state);
        JpkiCard card(reopened);
        card.powerOn();
        const auto send = [&](const std::string& hex) { return toHex(card.transmit(*fromHex(hex))); };
        REQUIRE(send(std::string(kSelectAp)) == "9000");
        REQUIRE(send(std::string(kSelectSignPin)) == "9000");
        CHECK(send(verifyCommand(jpki::kDemoSignPin)) == "63C4");
        CHECK(send(verifyCommand("NEWPIN99")) == "9000");
        // The auth PIN's format: exactly 4 digits.
        REQUIRE(send(std::string(kSelectAuthPin)) == "9000");
        REQUIRE(send(verifyCommand(jpki::kDemoAuthPin)) == "9000");
        CHECK(send("00240180" + lcHex(5) + asciiHex("12345")) == "6A80");
        CHECK(send("00240180" + lcHex(4) + asciiHex("5678")) == "9000");
    }
}

TEST_SUITE("vcard.jpki.sign")
{
    TEST_CASE("80 2A over a DigestInfo on the sign key EF, after the sign PIN: 256 bytes OpenSSL verifies")
    {
        JpkiFixture f;
        f.verifySign();
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        const Bytes signature = f.data(signCommand("document"));
        CHECK(signature.size() == 256);
        CHECK(signatureVerifies(f.store.certificate(KeyPair::Sign), "document", signature));
        CHECK_FALSE(signatureVerifies(f.store.certificate(KeyPair::Auth), "document", signature));
        // One VERIFY serves more signatures.
        CHECK(signatureVerifies(f.store.certificate(KeyPair::Sign), "second", f.data(signCommand("second"))));
    }

    TEST_CASE("the auth key signs under the auth PIN, with the auth certificate's key")
    {
        JpkiFixture f;
        f.verifyAuth();
        REQUIRE(f.sw(kSelectAuthKey) == "9000");
        CHECK(signatureVerifies(f.store.certificate(KeyPair::Auth), "login", f.data(signCommand("login"))));
    }

    TEST_CASE("each key needs its own PIN: 6982 otherwise")
    {
        JpkiFixture f;
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "6982");
        f.verifyAuth();
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "6982");
        f.verifySign();
        REQUIRE(f.sw(kSelectAuthKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "9000");
    }

    TEST_CASE("a wrong VERIFY clears that PIN's verification")
    {
        JpkiFixture f;
        f.verifySign();
        REQUIRE(f.sw(verifyCommand("WRONG1")) == "63C4");
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "6982");
    }

    TEST_CASE("no key EF selected 6986, another EF 6981, not a DigestInfo 6A80, CLA 00 6D00, bad P1 P2 6A86")
    {
        JpkiFixture f;
        f.verifySign();
        REQUIRE(f.sw(kSelectAp) == "9000");
        CHECK(f.sw(signCommand("x")) == "6986");
        REQUIRE(f.sw(kSelectSignCert) == "9000");
        CHECK(f.sw(signCommand("x")) == "6981");
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        const std::string rawHash = toHex(sha256("x"));
        CHECK(f.sw("802A0080" + lcHex(32) + rawHash + "00") == "6A80");
        CHECK(f.sw("002A0080" + lcHex(51) + digestInfoHex("x") + "00") == "6D00");
        CHECK(f.sw("802A9E9A" + lcHex(51) + digestInfoHex("x") + "00") == "6A86");
        CHECK(f.sw("842A0080" + lcHex(51) + digestInfoHex("x") + "00") == "6E00");
    }

    TEST_CASE("a smaller Le gets Le bytes and 61xx, no Le gets 6100; GET RESPONSE hands out the rest")
    {
        JpkiFixture f;
        f.verifySign();
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        Bytes first = f.data(signCommand("chunked", "80"), "6180");
        REQUIRE(first.size() == 128);
        const Bytes rest = f.data(kGetResponseAll);
        first.insert(first.end(), rest.begin(), rest.end());
        CHECK(signatureVerifies(f.store.certificate(KeyPair::Sign), "chunked", first));

        CHECK(f.send(signCommand("case 3", "")) == "6100");
        CHECK(signatureVerifies(f.store.certificate(KeyPair::Sign), "case 3", f.data(kGetResponseAll)));
        CHECK(f.sw(kGetResponseAll) == "6985");
    }
}

TEST_SUITE("vcard.jpki.session")
{
    TEST_CASE("power-off and reset end the session: AP, EF and verified PINs are gone, counters stay")
    {
        JpkiFixture f;
        f.verifySign();
        f.card.reset();
        CHECK(f.sw(kSelectSignKey) == "6A82");  // no AP selected
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "6982");
        f.verifySign();
        f.card.powerOff();
        f.card.powerOn();
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectSignCert) == "9000");
        CHECK(f.sw("00B0000004") == "6982");
    }

    TEST_CASE("re-selecting the AP or other EFs keeps verified PINs (OpenSC verifies, selects the key, signs)")
    {
        JpkiFixture f;
        f.verifySign();
        REQUIRE(f.sw(kSelectAp) == "9000");
        REQUIRE(f.sw(kSelectAuthCert) == "9000");
        REQUIRE(f.sw(kSelectSignKey) == "9000");
        CHECK(f.sw(signCommand("x")) == "9000");
    }

    TEST_CASE("unknown instructions 6D00, unknown classes 6E00, short or extended APDUs 6700")
    {
        JpkiFixture f;
        CHECK(f.sw("00CA000000") == "6D00");
        CHECK(f.sw("002241B600") == "6D00");
        CHECK(f.sw("A0A4040C0AD392F000260100000001") == "6E00");
        CHECK(f.sw("00A4") == "6700");
        CHECK(f.sw("00A4040C00000AD392F000260100000001") == "6700");
    }

    TEST_CASE("the log shows VERIFY and CHANGE without their PIN bytes")
    {
        CHECK(redactedCommandHex(*fromHex(verifyCommand("ABC123"))) == "0020008006<redacted:6>");
        CHECK(redactedCommandHex(*fromHex("00240180" + lcHex(8) + asciiHex("NEWPIN99"))) == "0024018008<redacted:8>");
        CHECK(redactedCommandHex(*fromHex(kPinStatus)) == "00200080");
    }
}

TEST_SUITE("vcard.jpki.store")
{
    TEST_CASE("a new card holds two RSA-2048 chains marked TEST, and the demo PINs with 3 and 5 tries")
    {
        const JpkiStore store = JpkiStore::open(inkan::test::generatedJpkiState());
        CHECK(store.maxTries(KeyPair::Auth) == 3);
        CHECK(store.maxTries(KeyPair::Sign) == 5);
        for (const auto pair : {KeyPair::Auth, KeyPair::Sign}) {
            const Bytes& der = store.certificate(pair);
            const unsigned char* p = der.data();
            ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
            REQUIRE(cert);
            CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())) == 2048);
            char subject[512];
            X509_NAME_oneline(X509_get_subject_name(cert.get()), subject, sizeof subject);
            CHECK(std::string(subject).find("TEST") != std::string::npos);
            char issuer[512];
            X509_NAME_oneline(X509_get_issuer_name(cert.get()), issuer, sizeof issuer);
            CHECK(std::string(issuer).find("TEST") != std::string::npos);
            const Bytes& ca = store.caCertificate(pair);
            p = ca.data();
            ossl::X509Ptr caCert(d2i_X509(nullptr, &p, static_cast<long>(ca.size())));
            REQUIRE(caCert);
            CHECK(X509_verify(cert.get(), X509_get0_pubkey(caCert.get())) == 1);
        }
        CHECK(store.certificate(KeyPair::Auth) != store.certificate(KeyPair::Sign));
    }

    TEST_CASE("a damaged PIN state file is refused, never reset to the demo PINs")
    {
        TempDir tmp;
        const fs::path state = tmp.path / "state";
        fs::copy(inkan::test::generatedJpkiState(), state, fs::copy_options::recursive);
        {
            std::ofstream(state / "jpki-card.json") << "{ not json";
        }
        CHECK_THROWS_AS(JpkiStore::open(state), StoreError);
    }
}
