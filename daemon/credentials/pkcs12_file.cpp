// PKCS#12 files through OpenSSL's PKCS12 API (pkcs12_file.hpp).
#include "daemon/credentials/pkcs12_file.hpp"

#include <mutex>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "daemon/card/digest_info.hpp"
#include "daemon/error.hpp"

namespace inkan::credentials {

namespace {

using Pkcs12Ptr = ossl::Ptr<PKCS12, PKCS12_free>;

// New files: AES-256-CBC (PBES2/PBKDF2) for keys and certificates, PBKDF2
// iterations as OpenSSL 3's `pkcs12 -export` uses, HMAC-SHA-256 for the MAC.
constexpr int kIterations = 2048;
constexpr int kMinRsaBits = 2048;

// Older Windows exports and many real 商業登記 files encrypt certificates with
// RC2-40, which OpenSSL 3 keeps in its legacy provider. The default provider
// is loaded alongside, as loading any provider explicitly turns off the
// implicit default.
void loadLegacyProvider()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OSSL_PROVIDER_load(nullptr, "default");
        OSSL_PROVIDER_load(nullptr, "legacy");  // absent: RC2 files fail to open, with a clear error
    });
}

Error invalid(const std::string& why) { return Error(ErrorCode::CredentialInvalid, why); }

Bytes der(X509* certificate)
{
    unsigned char* out = nullptr;
    const int length = i2d_X509(certificate, &out);
    if (length <= 0) throw invalid("the file's certificate cannot be encoded");
    Bytes bytes(out, out + length);
    OPENSSL_free(out);
    return bytes;
}

// Counts the private keys (key bags and shrouded key bags) in the file.
int countKeys(PKCS12* p12, const Secret& password)
{
    int keys = 0;
    STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
    if (!safes) return 0;
    for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
        PKCS7* safe = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
        const int type = OBJ_obj2nid(safe->type);
        if (type == NID_pkcs7_data) bags = PKCS12_unpack_p7data(safe);
        else if (type == NID_pkcs7_encrypted) bags = PKCS12_unpack_p7encdata(safe, password.c_str(), static_cast<int>(password.size()));
        if (!bags) continue;
        for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
            const int bag = PKCS12_SAFEBAG_get_nid(sk_PKCS12_SAFEBAG_value(bags, j));
            if (bag == NID_keyBag || bag == NID_pkcs8ShroudedKeyBag) ++keys;
        }
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return keys;
}

}  // namespace

OpenedPkcs12 openPkcs12(pcsc::ByteView file, const Secret& password)
{
    loadLegacyProvider();
    const unsigned char* cursor = file.data();
    Pkcs12Ptr p12(d2i_PKCS12(nullptr, &cursor, static_cast<long>(file.size())));
    if (!p12 || cursor != file.data() + file.size()) {
        ERR_clear_error();
        throw invalid("the file is not a PKCS#12 file (.p12/.pfx)");
    }
    if (PKCS12_mac_present(p12.get()) && !PKCS12_verify_mac(p12.get(), password.c_str(), static_cast<int>(password.size()))) {
        ERR_clear_error();
        throw Error(ErrorCode::PinIncorrect, "the file's password is wrong");
    }
    if (countKeys(p12.get(), password) > 1) throw invalid("the file holds several private keys; export one certificate with its key");

    EVP_PKEY* key = nullptr;
    X509* certificate = nullptr;
    STACK_OF(X509)* others = nullptr;
    if (!PKCS12_parse(p12.get(), password.c_str(), &key, &certificate, &others)) {
        ERR_clear_error();
        throw invalid("the file cannot be decrypted (an encryption this OpenSSL does not have?)");
    }
    OpenedPkcs12 opened;
    opened.key.reset(key);
    const ossl::X509Ptr own(certificate);
    const ossl::X509StackPtr chain(others);
    if (!opened.key) throw invalid("the file holds no private key");
    if (!own) throw invalid("the file holds no certificate for its key");
    if (X509_check_private_key(own.get(), opened.key.get()) != 1) {
        ERR_clear_error();
        throw invalid("the file's certificate is not the one of its key");
    }
    opened.certificate = der(own.get());
    for (int i = 0; chain && i < sk_X509_num(chain.get()); ++i) opened.chain.push_back(der(sk_X509_value(chain.get(), i)));
    return opened;
}

std::string keyProblem(EVP_PKEY* key)
{
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < kMinRsaBits) return "an RSA key shorter than 2048 bits";
        return {};
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        char curve[64] = {};
        std::size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length) != 1) return "an EC key without a named curve";
        const std::string name(curve, length);
        if (name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384") return {};
        return "an EC key on curve " + name + " (P-256 and P-384 only)";
    }
    return "a key that is neither RSA nor EC";
}

Bytes writePkcs12(const OpenedPkcs12& opened, const Secret& password)
{
    const unsigned char* cursor = opened.certificate.data();
    const ossl::X509Ptr own(d2i_X509(nullptr, &cursor, static_cast<long>(opened.certificate.size())));
    ossl::X509StackPtr chain(sk_X509_new_null());
    if (!own || !chain) throw Error(ErrorCode::Internal, "cannot rebuild the certificate");
    for (const auto& certificateDer : opened.chain) {
        const unsigned char* p = certificateDer.data();
        X509* other = d2i_X509(nullptr, &p, static_cast<long>(certificateDer.size()));
        if (other && !sk_X509_push(chain.get(), other)) X509_free(other);
    }
    Pkcs12Ptr p12(PKCS12_create_ex(password.c_str(), nullptr, opened.key.get(), own.get(), chain.get(), NID_aes_256_cbc,
                                   NID_aes_256_cbc, kIterations, kIterations, 0, nullptr, nullptr));
    if (!p12 || PKCS12_set_mac(p12.get(), password.c_str(), static_cast<int>(password.size()), nullptr, 0, kIterations,
                               EVP_sha256()) != 1) {
        ERR_clear_error();
        throw Error(ErrorCode::Internal, "OpenSSL could not write the PKCS#12 file");
    }
    unsigned char* out = nullptr;
    const int length = i2d_PKCS12(p12.get(), &out);
    if (length <= 0) throw Error(ErrorCode::Internal, "OpenSSL could not encode the PKCS#12 file");
    Bytes bytes(out, out + length);
    OPENSSL_free(out);
    return bytes;
}

Bytes signDigest(EVP_PKEY* key, DigestAlgorithm digestAlgorithm, pcsc::ByteView digest, std::string& algorithm)
{
    const EVP_MD* md = digestAlgorithm == DigestAlgorithm::Sha256   ? EVP_sha256()
                       : digestAlgorithm == DigestAlgorithm::Sha384 ? EVP_sha384()
                                                                    : EVP_sha512();
    const ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(key, nullptr));
    const bool rsa = EVP_PKEY_is_a(key, "RSA");
    // The digest is given: EVP_PKEY_sign with the signature digest set builds
    // the DigestInfo (RSA) or signs the digest as it is (ECDSA).
    if (!context || EVP_PKEY_sign_init(context.get()) != 1 || EVP_PKEY_CTX_set_signature_md(context.get(), md) != 1
        || (rsa && EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) != 1)) {
        ERR_clear_error();
        throw Error(ErrorCode::UnsupportedAlgorithm, "the key cannot sign with this digest algorithm");
    }
    std::size_t length = 0;
    if (EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size()) != 1) {
        ERR_clear_error();
        throw Error(ErrorCode::Internal, "OpenSSL could not sign");
    }
    Bytes signature(length);
    if (EVP_PKEY_sign(context.get(), signature.data(), &length, digest.data(), digest.size()) != 1) {
        ERR_clear_error();
        throw Error(ErrorCode::Internal, "OpenSSL could not sign");
    }
    signature.resize(length);
    algorithm = std::string(rsa ? "RSASSA-PKCS1-v1_5-" : "ECDSA-") + std::string(card::digestAlgorithmName(digestAlgorithm));
    return signature;
}

}  // namespace inkan::credentials
