// parseCertificate(): the fields inkan shows, from the test PKI's leaves and
// from certificates built here with odd extensions, and hostile input.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "tests/pki/test_pki.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using inkan::cert::CertificateInfo;
using inkan::cert::parseCertificate;
using inkan::testing::testPki;
namespace ossl = inkan::ossl;

struct ExtraExtension {
    std::string oid;
    Bytes value;  // extnValue contents
    bool critical = true;
};

/// A raw CN value: the ASN.1 string type and its bytes, unchecked.
struct RawCommonName {
    int type = V_ASN1_UTF8STRING;
    Bytes value;
};

/// A self-signed P-256 certificate carrying `extensions`, built in memory.
Bytes makeCertificate(const std::vector<ExtraExtension>& extensions, const std::optional<RawCommonName>& cn = {}) {
    ossl::EvpPkeyPtr key(EVP_EC_gen("P-256"));
    REQUIRE(key);
    ossl::X509Ptr cert(X509_new());
    REQUIRE(cert);
    REQUIRE(X509_set_version(cert.get(), X509_VERSION_3) == 1);
    REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 0x2A) == 1);
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (cn) {
        // A non-MBSTRING type stores the bytes as they are: room for invalid text.
        REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", cn->type, cn->value.data(), static_cast<int>(cn->value.size()),
                                           -1, 0) == 1);
    } else {
        REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>("拡張試験"), -1, -1, 0) == 1);
    }
    REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
    REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr);
    REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr);
    REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
    for (const auto& e : extensions) {
        ossl::Asn1ObjectPtr oid(OBJ_txt2obj(e.oid.c_str(), 1));
        ossl::Asn1StringPtr data(ASN1_OCTET_STRING_new());
        REQUIRE(ASN1_OCTET_STRING_set(data.get(), e.value.data(), static_cast<int>(e.value.size())) == 1);
        ossl::X509ExtensionPtr ext(
            X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), e.critical ? 1 : 0, data.get()));
        REQUIRE(ext);
        REQUIRE(X509_add_ext(cert.get(), ext.get(), -1) == 1);
    }
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
    unsigned char* raw = nullptr;
    const int len = i2d_X509(cert.get(), &raw);
    REQUIRE(len > 0);
    ossl::OpensslBytesPtr owned(raw);
    return {raw, raw + len};
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

const inkan::cert::ExtensionSummary* findExtension(const CertificateInfo& info, const std::string& oid) {
    for (const auto& e : info.extensions) {
        if (e.id.oid == oid) return &e;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("a registry-shaped leaf shows its Japanese subject as UTF-8 RFC 4514") {
    const CertificateInfo info = parseCertificate(testPki().leaf("good"));
    CHECK(info.subject == "CN=印鑑 太郎 有効,O=株式会社印鑑試験,C=JP");
    CHECK(info.issuer ==
          "CN=Registrar of Tokyo Legal Affairs Bureau Test Issuing CA,OU=Ministry of Justice Test,"
          "O=inkan Test Government,C=JP");
    CHECK(info.subjectCommonName == "印鑑 太郎 有効");
    CHECK(info.serialNumber == "1000");  // the script's first `openssl ca` serial
    CHECK(info.notBefore.size() == 20);
    CHECK(info.notBefore.back() == 'Z');
    CHECK(info.notAfterTime > info.notBeforeTime);
    CHECK(info.sha256Fingerprint.size() == 64);
    CHECK(info.sha256Fingerprint.find_first_not_of("0123456789ABCDEF") == std::string::npos);
    CHECK(info.version == 3);
    CHECK(info.signatureAlgorithm == "sha256WithRSAEncryption");
    CHECK_FALSE(info.selfSigned);
}

TEST_CASE("a registry-shaped leaf shows key, usages, policies, AIA, CDP and basic constraints") {
    const auto& pki = testPki();
    const CertificateInfo info = parseCertificate(pki.leaf("good"));
    CHECK(info.publicKey.type == "RSA");
    CHECK(info.publicKey.bits == 2048);
    CHECK(info.keyUsage == std::vector<std::string>{"digitalSignature", "nonRepudiation"});
    CHECK(info.extendedKeyUsage.empty());
    REQUIRE(info.certificatePolicies.size() == 1);
    CHECK(info.certificatePolicies[0].oid == "1.2.392.100300.1.3.4");
    CHECK(info.ocspUrls == std::vector<std::string>{pki.ocspUrl()});
    CHECK(info.crlUrls == std::vector<std::string>{pki.crlUrl()});
    REQUIRE(info.caIssuersUrls.size() == 1);
    CHECK(info.caIssuersUrls[0].ends_with("/intermediate.cer"));
    REQUIRE(info.basicConstraints.has_value());
    CHECK_FALSE(info.basicConstraints->ca);
    CHECK(info.basicConstraints->critical);
}

TEST_CASE("a registry-shaped leaf shows the three registry extensions decoded") {
    const CertificateInfo info = parseCertificate(testPki().leaf("good"));
    const auto& registry = info.registry;
    CHECK(registry.present());
    CHECK(registry.undecodable.empty());
    REQUIRE(registry.certificatePoliciesJP.size() == 1);
    CHECK(registry.certificatePoliciesJP[0].oid == "1.2.392.100300.1.3.4");
    CHECK(registry.certificatePoliciesJP[0].notices == std::vector<std::string>{"この証明書は試験用です。"});
    CHECK(registry.registrar == "東京法務局登記官（試験）");
    REQUIRE(registry.corporation.has_value());
    CHECK(registry.corporation->corporateName == "株式会社印鑑試験");
    CHECK(registry.corporation->registeredNumber == "012345678901");
    CHECK(registry.corporation->headOffice == "東京都千代田区霞が関一丁目１番１号");  // a BMPString
    CHECK(registry.corporation->representativeName == "印鑑 太郎");
    CHECK(registry.corporation->representativeTitle == "代表取締役");
    CHECK(registry.corporation->registryOffice == "東京法務局（試験）");  // after the unknown [5]

    for (const char* oid : {"1.2.392.100300.1.1.1", "1.2.392.100300.1.1.2", "1.2.392.100300.1.1.3"}) {
        const auto* ext = findExtension(info, oid);
        REQUIRE(ext != nullptr);
        CHECK(ext->critical);
        CHECK(ext->decoded);
    }
    CHECK(findExtension(info, "1.2.392.100300.1.1.3")->id.name == "registeredCorporationInfo");
}

TEST_CASE("a JPKI-style leaf shows its subjectAltName otherName values") {
    const CertificateInfo info = parseCertificate(testPki().leaf("jpki"));
    CHECK_FALSE(info.registry.present());
    const auto& others = info.subjectAltNames.otherName;
    REQUIRE(others.size() == 3);
    CHECK(others[0].oid == "1.2.392.200149.8.5.5.1");
    CHECK(others[0].value == "印鑑 花子");
    CHECK(others[0].isString);
    CHECK(others[1].value == "19800101");
    CHECK(others[2].value == "東京都千代田区霞が関一丁目1番1号");
}

TEST_CASE("the test root is self-signed and a CA") {
    const CertificateInfo info = parseCertificate(testPki().pemAsDer("root.pem"));
    CHECK(info.selfSigned);
    CHECK(info.subject == info.issuer);
    REQUIRE(info.basicConstraints.has_value());
    CHECK(info.basicConstraints->ca);
    CHECK(contains(info.keyUsage, "keyCertSign"));
    CHECK(contains(info.keyUsage, "cRLSign"));
}

TEST_CASE("an OCSP signer shows id-kp-OCSPSigning by name") {
    const CertificateInfo info = parseCertificate(testPki().pemAsDer("ocsp/signer.pem"));
    REQUIRE(info.extendedKeyUsage.size() == 1);
    CHECK(info.extendedKeyUsage[0].oid == "1.3.6.1.5.5.7.3.9");
    CHECK(info.extendedKeyUsage[0].name == "OCSPSigning");
}

TEST_CASE("an EC key is named with its curve") {
    const CertificateInfo info = parseCertificate(makeCertificate({}));
    CHECK(info.publicKey.type == "EC");
    CHECK(info.publicKey.bits == 256);
    CHECK(info.publicKey.curve == "prime256v1");
    CHECK(info.subjectCommonName == "拡張試験");
    CHECK(info.serialNumber == "2A");
    CHECK(info.selfSigned);
}

TEST_CASE("a malformed registry extension is reported undecodable and the rest still parses") {
    const Bytes garbage{0x30, 0x03, 0xA0, 0x05, 0x0C};  // [0] claims 5 bytes, 1 present
    const CertificateInfo info = parseCertificate(makeCertificate({
        {"1.2.392.100300.1.1.3", garbage},
        {"1.2.392.100300.1.1.2", {0x0C, 0x06, 0xE6, 0x9D, 0xB1, 0xE4, 0xBA, 0xAC}},  // 東京
    }));
    CHECK_FALSE(info.registry.corporation.has_value());
    CHECK(info.registry.undecodable == std::vector<std::string>{"1.2.392.100300.1.1.3"});
    CHECK(info.registry.registrar == "東京");
    CHECK(info.registry.present());
    const auto* ext = findExtension(info, "1.2.392.100300.1.1.3");
    REQUIRE(ext != nullptr);
    CHECK_FALSE(ext->decoded);
    CHECK(info.subjectCommonName == "拡張試験");
}

TEST_CASE("a duplicated extension is flagged, and the second copy does not overwrite the first") {
    const Bytes first{0x0C, 0x01, 'A'};
    const Bytes second{0x0C, 0x01, 'B'};
    const CertificateInfo info = parseCertificate(makeCertificate({
        {"1.2.392.100300.1.1.2", first},
        {"1.2.392.100300.1.1.2", second},
    }));
    CHECK(info.registry.registrar == "A");
    REQUIRE(info.extensions.size() == 2);
    CHECK(info.extensions[0].decoded);
    CHECK_FALSE(info.extensions[1].decoded);
}

TEST_CASE("a malformed standard extension is reported undecodable") {
    // keyUsage must be a BIT STRING; this is a UTF8String.
    const CertificateInfo info = parseCertificate(makeCertificate({{"2.5.29.15", {0x0C, 0x01, 'x'}}}));
    CHECK(info.keyUsage.empty());
    const auto* ext = findExtension(info, "2.5.29.15");
    REQUIRE(ext != nullptr);
    CHECK(ext->id.name == "keyUsage");
    CHECK_FALSE(ext->decoded);
}

TEST_CASE("an unknown extension is listed by OID") {
    const CertificateInfo info = parseCertificate(makeCertificate({{"1.3.6.1.4.1.32473.1.1", {0x05, 0x00}}}));
    const auto* ext = findExtension(info, "1.3.6.1.4.1.32473.1.1");
    REQUIRE(ext != nullptr);
    CHECK(ext->id.name.empty());
    CHECK(ext->critical);
    CHECK(ext->decoded);
}

TEST_CASE("text with invalid UTF-8 or control characters never comes out as such") {
    SUBCASE("a UTF8String that is not UTF-8 is refused by the decoder") {
        // OpenSSL will not even build such a name; patch one in after signing.
        Bytes der = makeCertificate({}, RawCommonName{V_ASN1_UTF8STRING, {'i', 'n', 'k', '@', 'n'}});
        const Bytes marker{'i', 'n', 'k', '@', 'n'};
        auto at = std::search(der.begin(), der.end(), marker.begin(), marker.end());
        REQUIRE(at != der.end());
        at[3] = 0xFF;
        CHECK_THROWS_AS(parseCertificate(der), inkan::Error);
    }
    SUBCASE("a NUL and a newline inside the CN") {
        const auto info =
            parseCertificate(makeCertificate({}, RawCommonName{V_ASN1_UTF8STRING, {'a', 0x00, 'b', '\n', 'c'}}));
        CHECK(info.subjectCommonName == "a\uFFFDb\uFFFDc");
        CHECK(info.subject.find('\n') == std::string::npos);
        CHECK(info.subject.find('\0') == std::string::npos);
    }
    SUBCASE("a BMPString otherName with a lone surrogate") {
        // subjectAltName { otherName { 1.2.3, [0] EXPLICIT BMPString 6771 D800 } }
        const Bytes san{0x30, 0x0E, 0xA0, 0x0C, 0x06, 0x02, 0x2A, 0x03, 0xA0, 0x06,
                        0x1E, 0x04, 0x67, 0x71, 0xD8, 0x00};
        const auto info = parseCertificate(makeCertificate({{"2.5.29.17", san, false}}));
        REQUIRE(info.subjectAltNames.otherName.size() == 1);
        CHECK(info.subjectAltNames.otherName[0].oid == "1.2.3");
        // Not text OpenSSL can convert: shown as the value's DER, in hex.
        CHECK_FALSE(info.subjectAltNames.otherName[0].isString);
        CHECK(info.subjectAltNames.otherName[0].value == "1E046771D800");
    }
}

TEST_CASE("bytes that are not exactly one certificate are a BadRequest") {
    const Bytes good = testPki().leaf("good");
    const auto rejects = [](const Bytes& der) {
        try {
            parseCertificate(der);
        } catch (const inkan::Error& e) {
            return e.code() == inkan::ErrorCode::BadRequest;
        }
        return false;
    };
    CHECK(rejects({}));
    CHECK(rejects({0x30}));
    CHECK(rejects({0x30, 0x00}));
    CHECK(rejects(Bytes(good.begin(), good.begin() + good.size() / 2)));  // truncated
    Bytes trailing = good;
    trailing.push_back(0x00);
    CHECK(rejects(trailing));
    CHECK(rejects(Bytes{'h', 'e', 'l', 'l', 'o'}));
    Bytes flipped = good;
    flipped[1] ^= 0x01;  // outer length now wrong
    CHECK(rejects(flipped));
}

TEST_CASE("PEM and DER both yield the DER certificate") {
    const auto& pki = testPki();
    const Bytes der = pki.leaf("good");
    const Bytes pem = inkan::testing::readFile(pki.dir / "leaves" / "good.pem");
    CHECK(inkan::cert::certificateDerFromPemOrDer(pem) == der);
    CHECK(inkan::cert::certificateDerFromPemOrDer(der) == der);
    const std::string notPem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    CHECK_THROWS_AS(inkan::cert::certificateDerFromPemOrDer(Bytes(notPem.begin(), notPem.end())), inkan::Error);
}

TEST_CASE("expiry: days left, the renewal window and the validity edges") {
    using namespace std::chrono;
    CertificateInfo info;
    info.notBeforeTime = sys_days{2026y / 1 / 1};
    info.notAfterTime = sys_days{2026y / 12 / 31};

    const auto early = inkan::cert::expiryOf(info, sys_days{2025y / 12 / 31});
    CHECK(early.notYetValid);
    CHECK_FALSE(early.expired);

    const auto mid = inkan::cert::expiryOf(info, sys_days{2026y / 6 / 1});
    CHECK(mid.daysLeft == 213);
    CHECK_FALSE(mid.expiringSoon);
    CHECK_FALSE(mid.expired);
    CHECK_FALSE(mid.notYetValid);

    const auto soon = inkan::cert::expiryOf(info, sys_days{2026y / 12 / 1});
    CHECK(soon.daysLeft == 30);
    CHECK(soon.expiringSoon);
    CHECK_FALSE(inkan::cert::expiryOf(info, sys_days{2026y / 12 / 1}, 29).expiringSoon);

    const auto lastHour = inkan::cert::expiryOf(info, sys_days{2026y / 12 / 30} + hours{23});
    CHECK(lastHour.daysLeft == 0);
    CHECK_FALSE(lastHour.expired);
    CHECK(lastHour.expiringSoon);

    const auto atEnd = inkan::cert::expiryOf(info, sys_days{2026y / 12 / 31});
    CHECK_FALSE(atEnd.expired);  // notAfter itself is still inside the validity period (RFC 5280 §4.1.2.5)

    const auto after = inkan::cert::expiryOf(info, sys_days{2027y / 1 / 2});
    CHECK(after.expired);
    CHECK_FALSE(after.expiringSoon);
    CHECK(after.daysLeft == -2);
}
