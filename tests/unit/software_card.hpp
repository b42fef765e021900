// A software key and certificate standing in for a card in the document
// formats' unit tests: what the card does is RSASSA-PKCS1-v1_5 over the
// DigestInfo of the digest it is given.
#pragma once

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "daemon/card/types.hpp"
#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::testing {

struct SoftwareCard {
    ossl::EvpPkeyPtr key;
    Bytes certificate;  // self-signed unless issued by a CA
};

/// A self-signed certificate for `key` (basic constraints CA or not), DER.
inline Bytes selfSignedCertificate(EVP_PKEY* key, const char* commonName, bool ca = false)
{
    ossl::X509Ptr x509(X509_new());
    X509_set_version(x509.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
    X509_set_pubkey(x509.get(), key);
    X509_NAME* name = X509_get_subject_name(x509.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
    X509_set_issuer_name(x509.get(), name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, x509.get(), x509.get(), nullptr, nullptr, 0);
    ossl::X509ExtensionPtr constraints(
        X509V3_EXT_conf_nid(nullptr, &context, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
    X509_add_ext(x509.get(), constraints.get(), -1);
    REQUIRE(X509_sign(x509.get(), key, EVP_sha256()) > 0);
    unsigned char* der = nullptr;
    const int length = i2d_X509(x509.get(), &der);
    ossl::OpensslBytesPtr owned(der);
    return Bytes(der, der + length);
}

inline SoftwareCard makeCard(const char* commonName, bool ca = false)
{
    SoftwareCard card;
    card.key.reset(EVP_RSA_gen(2048));
    REQUIRE(card.key);
    card.certificate = selfSignedCertificate(card.key.get(), commonName, ca);
    return card;
}

inline const EVP_MD* mdOf(DigestAlgorithm algorithm)
{
    return algorithm == DigestAlgorithm::Sha512 ? EVP_sha512() : algorithm == DigestAlgorithm::Sha384 ? EVP_sha384() : EVP_sha256();
}

/// What the card does: RSASSA-PKCS1-v1_5 over the DigestInfo of `digest`.
inline Bytes cardSign(EVP_PKEY* key, DigestAlgorithm algorithm, const Bytes& digest)
{
    ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(key, nullptr));
    REQUIRE(EVP_PKEY_sign_init(context.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(context.get(), mdOf(algorithm)) == 1);
    std::size_t length = 0;
    REQUIRE(EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size()) == 1);
    Bytes signature(length);
    REQUIRE(EVP_PKEY_sign(context.get(), signature.data(), &length, digest.data(), digest.size()) == 1);
    signature.resize(length);
    return signature;
}

}  // namespace inkan::testing
