// PKCS#12 files (daemon/credentials/pkcs12_file.*): the files a user may hand
// to `inkan import`, good and bad, built here with OpenSSL's own PKCS#12
// writer, including the ones `openssl pkcs12 -export` refuses to make (two
// keys in one file, a certificate that is not the key's).
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "daemon/credentials/file_credentials.hpp"
#include "daemon/credentials/pkcs12_file.hpp"
#include "daemon/error.hpp"
#include "tests/unit/temp_dir.hpp"

using inkan::Bytes;
using inkan::DigestAlgorithm;
using inkan::Error;
using inkan::ErrorCode;
using inkan::Secret;
using namespace inkan::credentials;

namespace {

const Secret kPassword{"correct horse 1"};

using KeyPtr = inkan::ossl::EvpPkeyPtr;
using CertPtr = inkan::ossl::X509Ptr;

KeyPtr rsaKey(unsigned bits = 2048) { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits))); }
KeyPtr ecKey(const char* curve) { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

CertPtr selfSigned(EVP_PKEY* key, const char* commonName)
{
    CertPtr certificate(X509_new());
    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 30L * 24 * 3600);
    X509_NAME* name = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
    X509_set_issuer_name(certificate.get(), name);
    X509_set_pubkey(certificate.get(), key);
    REQUIRE(X509_sign(certificate.get(), key, EVP_sha256()) > 0);
    return certificate;
}

Bytes encode(PKCS12* p12)
{
    unsigned char* out = nullptr;
    const int length = i2d_PKCS12(p12, &out);
    REQUIRE(length > 0);
    Bytes bytes(out, out + length);
    OPENSSL_free(out);
    PKCS12_free(p12);
    return bytes;
}

// A file with the given keys and certificates in one safe each, protected
// by kPassword (AES-256, a SHA-256 MAC), as PKCS12_create would lay them out.
Bytes fileWith(const std::vector<EVP_PKEY*>& keys, const std::vector<X509*>& certificates)
{
    STACK_OF(PKCS7)* safes = nullptr;
    STACK_OF(PKCS12_SAFEBAG)* certBags = nullptr;
    for (X509* certificate : certificates) REQUIRE(PKCS12_add_cert(&certBags, certificate) != nullptr);
    if (certBags) REQUIRE(PKCS12_add_safe(&safes, certBags, NID_aes_256_cbc, PKCS12_DEFAULT_ITER, kPassword.c_str()) == 1);
    sk_PKCS12_SAFEBAG_pop_free(certBags, PKCS12_SAFEBAG_free);
    STACK_OF(PKCS12_SAFEBAG)* keyBags = nullptr;
    for (EVP_PKEY* key : keys) {
        REQUIRE(PKCS12_add_key(&keyBags, key, 0, PKCS12_DEFAULT_ITER, NID_aes_256_cbc, kPassword.c_str()) != nullptr);
    }
    if (keyBags) REQUIRE(PKCS12_add_safe(&safes, keyBags, -1, 0, nullptr) == 1);
    sk_PKCS12_SAFEBAG_pop_free(keyBags, PKCS12_SAFEBAG_free);
    PKCS12* p12 = PKCS12_add_safes(safes, 0);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    REQUIRE(p12 != nullptr);
    REQUIRE(PKCS12_set_mac(p12, kPassword.c_str(), -1, nullptr, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) == 1);
    return encode(p12);
}

ErrorCode codeOf(const Bytes& file, const Secret& password = kPassword)
{
    try {
        (void)openPkcs12(file, password);
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;  // opened: no refusal
}

std::string refusalOf(const Bytes& file)
{
    try {
        (void)openPkcs12(file, kPassword);
    } catch (const Error& e) {
        return e.what();
    }
    return "opened";
}

bool verifies(EVP_PKEY* key, const Bytes& digest, const Bytes& signature)
{
    const inkan::ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(key, nullptr));
    return EVP_PKEY_verify_init(context.get()) == 1 && EVP_PKEY_CTX_set_signature_md(context.get(), EVP_sha256()) == 1
        && EVP_PKEY_verify(context.get(), signature.data(), signature.size(), digest.data(), digest.size()) == 1;
}

}  // namespace

TEST_CASE("pkcs12: a key with its certificate opens; the wrong password is PIN_INCORRECT")
{
    const auto key = rsaKey();
    const auto certificate = selfSigned(key.get(), "代表取締役 印鑑 太郎");
    const auto file = fileWith({key.get()}, {certificate.get()});
    const auto opened = openPkcs12(file, kPassword);
    CHECK(EVP_PKEY_eq(opened.key.get(), key.get()) == 1);
    CHECK(opened.chain.empty());
    CHECK(codeOf(file, Secret{"wrong"}) == ErrorCode::PinIncorrect);
}

TEST_CASE("pkcs12: files that are not one credential are CREDENTIAL_INVALID")
{
    const auto key = rsaKey();
    const auto other = rsaKey();
    const auto certificate = selfSigned(key.get(), "key");
    const auto otherCertificate = selfSigned(other.get(), "other");
    CHECK(codeOf(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}) == ErrorCode::CredentialInvalid);
    const auto noKey = fileWith({}, {certificate.get()});
    const auto noCertificate = fileWith({key.get()}, {});
    const auto severalKeys = fileWith({key.get(), other.get()}, {certificate.get(), otherCertificate.get()});
    const auto notTheKeys = fileWith({key.get()}, {otherCertificate.get()});
    for (const auto* file : {&noKey, &noCertificate, &severalKeys, &notTheKeys}) {
        CHECK(codeOf(*file) == ErrorCode::CredentialInvalid);
    }
    CHECK(refusalOf(noKey) == "the file holds no private key");
    CHECK(refusalOf(noCertificate) == "the file holds no certificate for its key");
    CHECK(refusalOf(severalKeys) == "the file holds several private keys; export one certificate with its key");
    CHECK(refusalOf(notTheKeys) == "the file holds no certificate for its key");
    auto file = fileWith({key.get()}, {certificate.get()});
    file.push_back(0);  // trailing bytes
    CHECK(codeOf(file) == ErrorCode::CredentialInvalid);
}

TEST_CASE("pkcs12: the keys inkan signs with")
{
    CHECK(keyProblem(rsaKey(2048).get()).empty());
    CHECK(keyProblem(ecKey("P-256").get()).empty());
    CHECK(keyProblem(ecKey("P-384").get()).empty());
    CHECK(keyProblem(rsaKey(1024).get()).find("shorter than 2048") != std::string::npos);
    CHECK(keyProblem(ecKey("secp256k1").get()).find("P-256 and P-384 only") != std::string::npos);
    const KeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    CHECK(keyProblem(ed25519.get()) == "a key that is neither RSA nor EC");
}

TEST_CASE("pkcs12: written anew under a new password, the old one no longer opens it; signatures verify")
{
    const auto key = ecKey("P-256");
    const auto certificate = selfSigned(key.get(), "ec");
    const auto opened = openPkcs12(fileWith({key.get()}, {certificate.get()}), kPassword);
    const Secret newPassword{"new password 2"};
    const auto rewritten = writePkcs12(opened, newPassword);
    CHECK(codeOf(rewritten) == ErrorCode::PinIncorrect);
    const auto reopened = openPkcs12(rewritten, newPassword);
    CHECK(reopened.certificate == opened.certificate);

    const Bytes digest(32, 0x5a);
    std::string algorithm;
    const auto signature = signDigest(reopened.key.get(), DigestAlgorithm::Sha256, digest, algorithm);
    CHECK(algorithm == "ECDSA-SHA-256");
    CHECK(verifies(key.get(), digest, signature));
}

TEST_CASE("file credentials: stored as imported, the counter kept across restarts, a bad file leaves nothing")
{
    inkan::test::TempDir dir;
    const auto key = rsaKey();
    const auto certificate = selfSigned(key.get(), "代表取締役 印鑑 太郎");
    const auto file = fileWith({key.get()}, {certificate.get()});
    std::string id;
    {
        FileCredentials files(dir.path / "keys");
        CHECK_THROWS_AS(files.importFile(fileWith({}, {certificate.get()}), kPassword), Error);
        CHECK(std::filesystem::is_empty(dir.path / "keys"));
        const auto imported = files.importFile(file, kPassword);
        id = imported.card.id;
        CHECK(imported.warnings.empty());
        CHECK(imported.card.label == "代表取締役 印鑑 太郎");
        CHECK(files.has(id));
        files.shutdown();
    }
    FileCredentials reloaded(dir.path / "keys");
    CHECK(reloaded.has(id));
    reloaded.remove(id);
    CHECK_FALSE(reloaded.has(id));
    CHECK(std::filesystem::is_empty(dir.path / "keys"));
    CHECK_THROWS_AS(reloaded.remove(id), Error);
}
