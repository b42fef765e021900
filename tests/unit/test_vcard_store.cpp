// Unit tests of the virtual card's state directory, demo certificates, DER
// writer, event log and vpcd framing.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/vcard_state.hpp"
#include "tools/vcard/card_store.hpp"
#include "tools/vcard/demo_credentials.hpp"
#include "tools/vcard/der.hpp"
#include "tools/vcard/event_log.hpp"
#include "tools/vcard/openssl_handles.hpp"
#include "tools/vcard/registry_extensions.hpp"
#include "tools/vcard/virtual_card.hpp"
#include "tools/vcard/vpcd_link.hpp"

namespace fs = std::filesystem;
using namespace inkan::vcard;
using Clock = std::chrono::system_clock;
using inkan::Secret;

namespace {

/// A temp dir named for this file's tests.
struct TempDir : inkan::test::TempDir {
    TempDir() : inkan::test::TempDir("inkan-vcard-store") {}
};

std::string readText(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::perms modeOf(const fs::path& p)
{
    return fs::status(p).permissions() & fs::perms::mask;
}

ossl::X509Ptr parseDer(const Bytes& der)
{
    const unsigned char* p = der.data();
    return ossl::X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

Bytes extensionValue(X509* cert, std::string_view oid, bool& critical)
{
    ossl::ObjectPtr obj(OBJ_txt2obj(std::string(oid).c_str(), 1));
    REQUIRE(obj);
    const int idx = X509_get_ext_by_OBJ(cert, obj.get(), -1);
    REQUIRE_MESSAGE(idx >= 0, "extension missing: " << oid);
    X509_EXTENSION* ext = X509_get_ext(cert, idx);
    critical = X509_EXTENSION_get_critical(ext) == 1;
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
    return Bytes(ASN1_STRING_get0_data(value), ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
}

std::string utf8Hex(std::string_view s)
{
    return toHex(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

std::string nameOf(const X509_NAME* name)
{
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

void writePem(const fs::path& p, EVP_PKEY* key)
{
    ossl::BioPtr bio(BIO_new_file(p.c_str(), "w"));
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
}

std::time_t asTimeT(const ASN1_TIME* t)
{
    std::tm tm{};
    REQUIRE(ASN1_TIME_to_tm(t, &tm) == 1);
    return timegm(&tm);
}

}  // namespace

TEST_SUITE("vcard.der")
{
    TEST_CASE("OBJECT IDENTIFIER encodings match OpenSSL's")
    {
        for (const char* oid : {"1.2.392.100300.1.1.1", "1.2.392.100300.1.3.4", "2.5.29.15", "1.2.840.113549.1.1.11",
                                "2.999.3", "0.39"}) {
            CAPTURE(oid);
            ossl::ObjectPtr obj(OBJ_txt2obj(oid, 1));
            REQUIRE(obj);
            unsigned char* der = nullptr;
            const int len = i2d_ASN1_OBJECT(obj.get(), &der);
            REQUIRE(len > 0);
            const Bytes expected(der, der + len);
            OPENSSL_free(der);
            CHECK(toHex(der::objectIdentifier(oid)) == toHex(expected));
        }
        CHECK(toHex(der::objectIdentifier("1.2.392.100300.1.3.4")) == "06092A8308868F4C010304");
    }

    TEST_CASE("malformed OIDs are rejected")
    {
        for (const char* oid : {"", "1", "1.", ".1.2", "1..2", "3.1", "1.40", "1.2.x", "1.2.-3"}) {
            CAPTURE(oid);
            CHECK_THROWS_AS(der::objectIdentifier(oid), std::invalid_argument);
        }
    }

    TEST_CASE("lengths use the short form below 128 and the minimal long form above")
    {
        CHECK(toHex(der::tlv(0x04, Bytes(0))) == "0400");
        CHECK(toHex(der::tlv(0x04, Bytes(127))).substr(0, 4) == "047F");
        CHECK(toHex(der::tlv(0x04, Bytes(128))).substr(0, 6) == "048180");
        CHECK(toHex(der::tlv(0x04, Bytes(255))).substr(0, 6) == "0481FF");
        CHECK(toHex(der::tlv(0x04, Bytes(300))).substr(0, 8) == "0482012C");
        CHECK(der::tlv(0x04, Bytes(70000)).size() == 70000 + 5);
    }

    TEST_CASE("PrintableString refuses characters outside its set; EXPLICIT tags are A0 | n")
    {
        CHECK(toHex(der::printableString("0100-01 (A)")) == "130B303130302D303120284129");
        CHECK_THROWS_AS(der::printableString("a@b"), std::invalid_argument);
        CHECK_THROWS_AS(der::printableString("東京"), std::invalid_argument);
        CHECK(toHex(der::explicitTag(6, der::utf8String("x"))) == "A6030C0178");
        CHECK_THROWS_AS(der::explicitTag(31, Bytes{}), std::invalid_argument);
    }
}

TEST_SUITE("vcard.registry_extensions")
{
    TEST_CASE("certificatePoliciesJP is a SEQUENCE OF PolicyInformation with the registry policy")
    {
        CHECK(toHex(registry::certificatePoliciesJp(registry::kOidRegistryPolicy)) == "300D300B06092A8308868F4C010304");
    }

    TEST_CASE("registrarJP is one UTF8String")
    {
        CHECK(toHex(registry::registrarJp("東京法務局登記官")) == "0C18" + utf8Hex("東京法務局登記官"));
    }

    TEST_CASE("registeredCorporationInfo carries fields [0]-[4] and [6] as EXPLICIT tags")
    {
        const registry::RegisteredCorporation c{"商", "010001123456", "本", "代", "資", "局"};
        const std::string expected = "3033"
                                     "A0050C03" + utf8Hex("商") +
                                     "A10E130C303130303031313233343536"
                                     "A2050C03" + utf8Hex("本") +
                                     "A3050C03" + utf8Hex("代") +
                                     "A4050C03" + utf8Hex("資") +
                                     "A6050C03" + utf8Hex("局");
        CHECK(toHex(registry::registeredCorporationInfo(c)) == expected);
    }

    TEST_CASE("a 会社法人等番号 that is not exactly 12 digits is refused")
    {
        for (const char* number : {"01000112345", "0100011234567", "0100-01-1234", "01000112345A"}) {
            CAPTURE(number);
            const registry::RegisteredCorporation c{"商", number, "本", "代", "資", "局"};
            CHECK_THROWS_AS(registry::registeredCorporationInfo(c), std::invalid_argument);
        }
    }
}

TEST_SUITE("vcard.demo_credentials")
{
    TEST_CASE("addMonths adds calendar months in UTC and clamps the day")
    {
        const auto at = [](int y, int m, int d) {
            std::tm tm{};
            tm.tm_year = y - 1900;
            tm.tm_mon = m - 1;
            tm.tm_mday = d;
            tm.tm_hour = 12;
            return Clock::from_time_t(timegm(&tm));
        };
        CHECK(addMonths(at(2026, 1, 31), 1) == at(2026, 2, 28));
        CHECK(addMonths(at(2027, 11, 30), 3) == at(2028, 2, 29));
        CHECK(addMonths(at(2026, 3, 15), 27) == at(2028, 6, 15));
        CHECK(addMonths(at(2026, 12, 1), 12) == at(2027, 12, 1));
    }

    TEST_CASE("the demo leaf looks like a 商業登記電子証明書 issued by a clearly-demo CA")
    {
        auto store = CardStore::open(StoreOptions{inkan::test::generatedCardState(), {}, {}, {}, {}});
        const auto leaf = parseDer(store.signingCertificate());
        REQUIRE(leaf);
        REQUIRE(store.caCertificate());
        const auto ca = parseDer(*store.caCertificate());
        REQUIRE(ca);

        CHECK(nameOf(X509_get_subject_name(leaf.get())) == "CN=代表取締役 印鑑 太郎,O=株式会社いんかん商事,C=JP");
        CHECK(nameOf(X509_get_issuer_name(leaf.get())) ==
              "CN=inkan Demo Registrar CA,OU=Demo Legal Affairs Bureau,O=inkan Demo,C=JP");
        CHECK(X509_NAME_cmp(X509_get_issuer_name(leaf.get()), X509_get_subject_name(ca.get())) == 0);
        CHECK(X509_check_issued(ca.get(), leaf.get()) == X509_V_OK);
        CHECK(X509_verify(leaf.get(), X509_get0_pubkey(ca.get())) == 1);
        CHECK(X509_verify(ca.get(), X509_get0_pubkey(ca.get())) == 1);
        CHECK(X509_get_signature_nid(leaf.get()) == NID_sha256WithRSAEncryption);
        CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(leaf.get())) == 2048);

        // Validity: 27 calendar months from issuance.
        const auto notBefore = Clock::from_time_t(asTimeT(X509_get0_notBefore(leaf.get())));
        const auto notAfter = Clock::from_time_t(asTimeT(X509_get0_notAfter(leaf.get())));
        CHECK(notAfter == addMonths(notBefore, 27));
        CHECK(Clock::now() - notBefore < std::chrono::hours(1));

        // keyUsage: critical, digitalSignature + nonRepudiation only.
        CHECK((X509_get_key_usage(leaf.get()) & 0xFFFF) == (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION));
        int critical = 0;
        ossl::Ptr<ASN1_BIT_STRING, ASN1_BIT_STRING_free> ku(static_cast<ASN1_BIT_STRING*>(
            X509_get_ext_d2i(leaf.get(), NID_key_usage, &critical, nullptr)));
        CHECK(critical == 1);
    }

    TEST_CASE("the demo leaf carries the three registry extensions, critical, with the demo company")
    {
        auto store = CardStore::open(StoreOptions{inkan::test::generatedCardState(), {}, {}, {}, {}});
        const auto leaf = parseDer(store.signingCertificate());
        bool critical = false;

        CHECK(toHex(extensionValue(leaf.get(), registry::kOidCertificatePoliciesJp, critical)) ==
              "300D300B06092A8308868F4C010304");
        CHECK(critical);
        CHECK(toHex(extensionValue(leaf.get(), registry::kOidRegistrarJp, critical)) ==
              toHex(registry::registrarJp("東京法務局登記官")));
        CHECK(critical);
        const registry::RegisteredCorporation demo{"株式会社いんかん商事", "010001123456",
                                                   "東京都千代田区霞が関一丁目1番1号", "印鑑 太郎", "代表取締役",
                                                   "東京法務局"};
        CHECK(toHex(extensionValue(leaf.get(), registry::kOidRegisteredCorporationInfo, critical)) ==
              toHex(registry::registeredCorporationInfo(demo)));
        CHECK(critical);
        // Stock verification refuses the unknown critical extensions, as with the real certificates.
        CHECK((X509_get_extension_flags(leaf.get()) & EXFLAG_CRITICAL) != 0);
    }
}

TEST_SUITE("vcard.store")
{
    TEST_CASE("a new state dir holds private files with private modes and no PIN in clear")
    {
        const auto& state = inkan::test::generatedCardState();
        CHECK(modeOf(state) == fs::perms::owner_all);
        CHECK(modeOf(state / "card.json") == (fs::perms::owner_read | fs::perms::owner_write));
        CHECK(modeOf(state / "signing-key.pem") == (fs::perms::owner_read | fs::perms::owner_write));
        CHECK(modeOf(state / "demo-ca-key.pem") == (fs::perms::owner_read | fs::perms::owner_write));
        CHECK(fs::exists(state / "signing-cert.pem"));
        CHECK(fs::exists(state / "ca-cert.pem"));
        for (const auto& entry : fs::directory_iterator(state))
            CHECK_MESSAGE(entry.path().filename().string().find(".tmp.") == std::string::npos, entry.path());

        const auto json = nlohmann::json::parse(readText(state / "card.json"));
        CHECK(json["serial"].get<std::string>().size() == 16);
        for (const char* name : {"user", "unblock"}) {
            const auto& pin = json["pins"][name];
            CHECK(pin.size() == 4);  // salt, sha256, triesLeft, maxTries: nothing else
            CHECK(pin["triesLeft"] == 10);
            CHECK(pin["maxTries"] == 10);
            // The stored value is SHA-256(salt || PIN).
            const Bytes salt = *fromHex(pin["salt"].get<std::string>());
            const std::string demo = std::string(name) == "user" ? "1234" : "12345678";
            Bytes input = salt;
            input.insert(input.end(), demo.begin(), demo.end());
            Bytes digest(32);
            REQUIRE(EVP_Digest(input.data(), input.size(), digest.data(), nullptr, EVP_sha256(), nullptr) == 1);
            CHECK(pin["sha256"].get<std::string>() == toHex(digest));
        }
    }

    TEST_CASE("reopening a state dir keeps the serial, key and certificates")
    {
        TempDir tmp;
        const StoreOptions options{tmp.path / "s", {}, {}, {}, {}};
        auto first = CardStore::open(options);
        const auto cert = first.signingCertificate();
        const auto serial = first.serial();
        auto second = CardStore::open(options);
        CHECK(second.signingCertificate() == cert);
        CHECK(second.serial() == serial);
    }

    TEST_CASE("--serial overrides the serial for this run only")
    {
        TempDir tmp;
        fs::copy(inkan::test::generatedCardState(), tmp.path / "s", fs::copy_options::recursive);
        StoreOptions options{tmp.path / "s", {}, {}, {}, {}};
        const auto stored = CardStore::open(options).serial();
        options.serialOverride = parseCardSerial("0011223344556677");
        CHECK(toHex(CardStore::open(options).serial()) == "0011223344556677");
        options.serialOverride.reset();
        CHECK(CardStore::open(options).serial() == stored);
    }

    TEST_CASE("parseCardSerial accepts exactly 16 hex digits")
    {
        CHECK(parseCardSerial("00112233445566aF"));
        CHECK_FALSE(parseCardSerial("001122334455667"));
        CHECK_FALSE(parseCardSerial("00112233445566778"));
        CHECK_FALSE(parseCardSerial("0011223344556G77"));
        CHECK_FALSE(parseCardSerial("00112233 4556677"));
    }

    TEST_CASE("a damaged card.json is refused rather than reset to the factory PINs")
    {
        for (const std::string& content : {std::string("{"), std::string("[]"), std::string(R"({"format":2})"),
                                          std::string(R"({"format":1,"serial":"00","pins":{}})")}) {
            CAPTURE(content);
            TempDir tmp;
            fs::copy(inkan::test::generatedCardState(), tmp.path / "s", fs::copy_options::recursive);
            std::ofstream(tmp.path / "s" / "card.json", std::ios::trunc) << content;
            CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", {}, {}, {}, {}}), StoreError);
        }
    }

    TEST_CASE("out-of-range tries in card.json are refused")
    {
        TempDir tmp;
        fs::copy(inkan::test::generatedCardState(), tmp.path / "s", fs::copy_options::recursive);
        auto json = nlohmann::json::parse(readText(tmp.path / "s" / "card.json"));
        json["pins"]["user"]["triesLeft"] = 11;
        std::ofstream(tmp.path / "s" / "card.json", std::ios::trunc) << json.dump();
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", {}, {}, {}, {}}), StoreError);
    }

    TEST_CASE("a card made with --max-tries keeps that maximum; another one for it is refused")
    {
        TempDir tmp;
        const fs::path shared = inkan::test::generatedCardState();
        StoreOptions options{tmp.path / "s", shared / "signing-key.pem", shared / "signing-cert.pem", {}, {}, 5};
        {
            auto store = CardStore::open(options);
            CHECK(store.maxTries(PinReference::User) == 5);
            CHECK(store.maxTries(PinReference::Unblock) == 5);
            CHECK(store.triesLeft(PinReference::User) == 5);
            CHECK_FALSE(store.checkPin(PinReference::User, Secret("9999")));
            CHECK(store.triesLeft(PinReference::User) == 4);
            CHECK(store.checkPin(PinReference::User, Secret("1234")));
            CHECK(store.triesLeft(PinReference::User) == 5);
        }
        const auto json = nlohmann::json::parse(readText(tmp.path / "s" / "card.json"));
        CHECK(json["pins"]["user"]["maxTries"] == 5);
        CHECK(json["pins"]["unblock"]["maxTries"] == 5);
        options.maxTries.reset();
        CHECK(CardStore::open(options).maxTries(PinReference::User) == 5);
        options.maxTries = 6;
        CHECK_THROWS_AS(CardStore::open(options), StoreError);
        for (const int wrong : {0, 16}) {
            TempDir other;
            CHECK_THROWS_AS(CardStore::open(StoreOptions{other.path / "s", shared / "signing-key.pem",
                                                         shared / "signing-cert.pem", {}, {}, wrong}),
                            StoreError);
        }
    }

    TEST_CASE("--key/--cert replace the card's credentials; EF C002 is absent without --ca-cert")
    {
        TempDir tmp;
        const auto& shared = inkan::test::generatedCardState();
        StoreOptions options{tmp.path / "s", shared / "signing-key.pem", shared / "signing-cert.pem", {}, {}};
        auto store = CardStore::open(options);
        CHECK(store.signingCertificate() == CardStore::open(StoreOptions{shared, {}, {}, {}, {}}).signingCertificate());
        CHECK_FALSE(store.caCertificate());
        CHECK_FALSE(fs::exists(tmp.path / "s" / "signing-key.pem"));  // nothing generated
        CHECK(fs::exists(tmp.path / "s" / "card.json"));

        VirtualCard card(store);
        CHECK(toHex(card.transmit(*fromHex("00A4040C07F0494E4B414E01"))) == "9000");
        CHECK(toHex(card.transmit(*fromHex("00A4020C02C002"))) == "6A82");

        options.caCertFile = shared / "ca-cert.pem";
        auto withCa = CardStore::open(options);
        REQUIRE(withCa.caCertificate());
        VirtualCard card2(withCa);
        CHECK(toHex(card2.transmit(*fromHex("00A4040C07F0494E4B414E01"))) == "9000");
        CHECK(toHex(card2.transmit(*fromHex("00A4020C02C002"))) == "9000");
    }

    TEST_CASE("a DER certificate file is accepted as well as PEM")
    {
        TempDir tmp;
        const auto& shared = inkan::test::generatedCardState();
        const Bytes der = CardStore::open(StoreOptions{shared, {}, {}, {}, {}}).signingCertificate();
        std::ofstream(tmp.path / "leaf.der", std::ios::binary).write(reinterpret_cast<const char*>(der.data()),
                                                                       static_cast<std::streamsize>(der.size()));
        auto store = CardStore::open(StoreOptions{tmp.path / "s", shared / "signing-key.pem", tmp.path / "leaf.der", {}, {}});
        CHECK(store.signingCertificate() == der);
    }

    TEST_CASE("a key that does not match the certificate is refused")
    {
        TempDir tmp;
        const auto& shared = inkan::test::generatedCardState();
        // The CA key against the leaf certificate: a valid RSA-2048 key, the wrong one.
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", shared / "demo-ca-key.pem",
                                                     shared / "signing-cert.pem", {}, {}}),
                        StoreError);
    }

    TEST_CASE("a key that is not RSA-2048 is refused, as are files that are not keys or certificates")
    {
        TempDir tmp;
        ossl::PkeyPtr ec(EVP_EC_gen("P-256"));
        REQUIRE(ec);
        writePem(tmp.path / "ec.pem", ec.get());
        const auto& shared = inkan::test::generatedCardState();
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", tmp.path / "ec.pem", shared / "signing-cert.pem", {}, {}}),
                        StoreError);
        std::ofstream(tmp.path / "junk") << "not a key";
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", tmp.path / "junk", shared / "signing-cert.pem", {}, {}}),
                        StoreError);
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", shared / "signing-key.pem", tmp.path / "junk", {}, {}}),
                        StoreError);
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", shared / "signing-key.pem", {}, {}, {}}), StoreError);
    }

    TEST_CASE("a state dir whose key went missing is refused rather than silently re-keyed")
    {
        TempDir tmp;
        fs::copy(inkan::test::generatedCardState(), tmp.path / "s", fs::copy_options::recursive);
        fs::remove(tmp.path / "s" / "signing-key.pem");
        CHECK_THROWS_AS(CardStore::open(StoreOptions{tmp.path / "s", {}, {}, {}, {}}), StoreError);
    }

    TEST_CASE("writeFileAtomically replaces the content, sets the mode and leaves no temporary file")
    {
        TempDir tmp;
        const auto file = tmp.path / "f";
        const std::string a = "first", b = "second";
        writeFileAtomically(file, ByteView(reinterpret_cast<const std::uint8_t*>(a.data()), a.size()),
                            fs::perms::owner_read | fs::perms::owner_write);
        writeFileAtomically(file, ByteView(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()),
                            fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
        CHECK(readText(file) == "second");
        CHECK(modeOf(file) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read));
        CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1);
    }

    TEST_CASE("a second lock on the same state dir is refused while the first is held")
    {
        TempDir tmp;
        {
            const StateDirLock first(tmp.path / "s");
            CHECK_THROWS_AS(StateDirLock(tmp.path / "s"), StoreError);
        }
        CHECK_NOTHROW(StateDirLock(tmp.path / "s"));
    }
}

TEST_SUITE("vcard.log")
{
    TEST_CASE("timestamps are RFC 3339 UTC with milliseconds")
    {
        CHECK(rfc3339Millis(Clock::time_point(std::chrono::milliseconds(1767225600123))) == "2026-01-01T00:00:00.123Z");
        CHECK(rfc3339Millis(Clock::time_point(std::chrono::milliseconds(5))) == "1970-01-01T00:00:00.005Z");
    }

    TEST_CASE("PIN-carrying commands are logged with their data redacted")
    {
        CHECK(redactedCommandHex(*fromHex("002000811031323334FFFFFFFFFFFFFFFFFFFFFFFF")) == "0020008110<redacted:16>");
        CHECK(redactedCommandHex(*fromHex("0024008120" + std::string(64, 'F'))) == "0024008120<redacted:32>");
        CHECK(redactedCommandHex(*fromHex("002C008120" + std::string(64, 'F'))) == "002C008120<redacted:32>");
        CHECK(redactedCommandHex(*fromHex("00200081")) == "00200081");  // nothing to hide
        CHECK(redactedCommandHex(*fromHex("0020008100")) == "0020008100");
        CHECK(redactedCommandHex(*fromHex("00A4040C07F0494E4B414E01")) == "00A4040C07F0494E4B414E01");
        CHECK(statusWordHex(*fromHex("AABB6100")) == "6100");
        CHECK(statusWordHex(Bytes{0x90}) == "----");
    }

    TEST_CASE("the log file gets one line per APDU and per event, and never a PIN digit")
    {
        TempDir tmp;
        const auto path = tmp.path / "card.log";
        {
            EventLog log(path);
            log.event(CardEvent::Connected);
            log.apdu(*fromHex("002000811031323334FFFFFFFFFFFFFFFFFFFFFFFF"), *fromHex("9000"));
            log.apdu(*fromHex("00B0000004"), *fromHex("308206A19000"));
            log.event(CardEvent::Removed);
        }
        std::istringstream lines(readText(path));
        std::string line;
        std::vector<std::string> all;
        while (std::getline(lines, line)) all.push_back(line);
        REQUIRE(all.size() == 4);
        const std::regex ts(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
        for (const auto& l : all) CHECK(std::regex_search(l.substr(0, 24), ts));
        CHECK(all[0].substr(24) == " # connected");
        CHECK(all[1].substr(24) == " 0020008110<redacted:16> 9000");
        CHECK(all[2].substr(24) == " 00B0000004 9000");
        CHECK(all[3].substr(24) == " # removed");
        CHECK(readText(path).find("31323334") == std::string::npos);
        CHECK(modeOf(path) == (fs::perms::owner_read | fs::perms::owner_write));
    }
}

TEST_SUITE("vcard.vpcd")
{
    TEST_CASE("vpcd frames carry a 2-byte big-endian length")
    {
        CHECK(toHex(vpcd::frame(*fromHex("9000"))) == "00029000");
        CHECK(toHex(vpcd::frame(Bytes(300, 0))).substr(0, 4) == "012C");
        CHECK(vpcd::frame(Bytes{}).size() == 2);
        CHECK_THROWS_AS(vpcd::frame(Bytes(0x10000)), std::length_error);
    }

    TEST_CASE("control messages drive the card's power; 04 is answered with the ATR; APDUs with the response")
    {
        TempDir tmp;
        fs::copy(inkan::test::generatedCardState(), tmp.path / "s", fs::copy_options::recursive);
        auto store = CardStore::open(StoreOptions{tmp.path / "s", {}, {}, {}, {}});
        VirtualCard card(store);
        EventLog log(tmp.path / "log");

        CHECK_FALSE(vpcd::handleMessage(card, log, Bytes{0x01}));
        const auto atr = vpcd::handleMessage(card, log, Bytes{0x04});
        REQUIRE(atr);
        CHECK(toHex(*atr) == "3B888001494E4B414E5643316E");
        CHECK(toHex(*vpcd::handleMessage(card, log, *fromHex("0020008110" + std::string("31323334") + std::string(24, 'F')))) ==
              "9000");
        CHECK(toHex(*vpcd::handleMessage(card, log, *fromHex("00200081"))) == "9000");
        CHECK_FALSE(vpcd::handleMessage(card, log, Bytes{0x02}));  // reset: no answer, verification gone
        CHECK(toHex(*vpcd::handleMessage(card, log, *fromHex("00200081"))) == "63CA");
        CHECK_FALSE(vpcd::handleMessage(card, log, Bytes{0x00}));
        CHECK_FALSE(vpcd::handleMessage(card, log, Bytes{0x07}));  // unknown control: ignored
        CHECK_FALSE(vpcd::handleMessage(card, log, Bytes{}));

        const std::string text = readText(tmp.path / "log");
        int apdus = 0, events = 0;
        std::istringstream lines(text);
        for (std::string l; std::getline(lines, l);) (l.find(" # ") != std::string::npos ? events : apdus)++;
        CHECK(apdus == 3);
        CHECK(events == 4);  // power-on, atr, reset, power-off
        CHECK(text.find("# power-on") != std::string::npos);
        CHECK(text.find("# atr") != std::string::npos);
        CHECK(text.find("# reset") != std::string::npos);
        CHECK(text.find("# power-off") != std::string::npos);
    }
}
