// inkan — owning handles for OpenSSL objects.
//
// Every OpenSSL object inkan holds lives in one of these aliases so no code
// path calls a *_free by hand. Use `makeX(raw)` only right after the call that
// allocated `raw`; a null result stays null and is checked by the caller.
#pragma once

#include <memory>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace inkan::ossl {

/// A stateless deleter calling the matching OpenSSL free function.
template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

namespace detail {
// BIO_free returns int; wrap it to the void signature the Deleter expects.
inline void bioFreeAll(BIO* b) { BIO_free_all(b); }
inline void stackOfX509Free(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
inline void stackOfX509CrlFree(STACK_OF(X509_CRL) * s) { sk_X509_CRL_pop_free(s, X509_CRL_free); }
inline void generalNamesFree(GENERAL_NAMES* n) { GENERAL_NAMES_free(n); }
inline void asn1ObjectFree(ASN1_OBJECT* o) { ASN1_OBJECT_free(o); }
inline void asn1TypeFree(ASN1_TYPE* t) { ASN1_TYPE_free(t); }
inline void asn1StringFree(ASN1_STRING* s) { ASN1_STRING_free(s); }
inline void opensslFree(unsigned char* p) { OPENSSL_free(p); }
inline void opensslFreeChar(char* p) { OPENSSL_free(p); }
}  // namespace detail

using X509Ptr = Ptr<X509, X509_free>;
using X509CrlPtr = Ptr<X509_CRL, X509_CRL_free>;
using X509StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509StackPtr = Ptr<STACK_OF(X509), detail::stackOfX509Free>;
using X509CrlStackPtr = Ptr<STACK_OF(X509_CRL), detail::stackOfX509CrlFree>;
using EvpPkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using EvpMdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = Ptr<BIO, detail::bioFreeAll>;
using OcspRequestPtr = Ptr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = Ptr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicRespPtr = Ptr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = Ptr<OCSP_CERTID, OCSP_CERTID_free>;
using GeneralNamesPtr = Ptr<GENERAL_NAMES, detail::generalNamesFree>;
using AuthorityInfoAccessPtr = Ptr<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>;
using CrlDistPointsPtr = Ptr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;
using CertificatePoliciesPtr = Ptr<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free>;
using ExtendedKeyUsagePtr = Ptr<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using IssuingDistPointPtr = Ptr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;
using X509ExtensionPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using X509NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using BasicConstraintsPtr = Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using Asn1BitStringPtr = Ptr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using Asn1ObjectPtr = Ptr<ASN1_OBJECT, detail::asn1ObjectFree>;
using Asn1TypePtr = Ptr<ASN1_TYPE, detail::asn1TypeFree>;
using Asn1StringPtr = Ptr<ASN1_STRING, detail::asn1StringFree>;
using Asn1TimePtr = Ptr<ASN1_TIME, ASN1_TIME_free>;
using Asn1IntegerPtr = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1EnumeratedPtr = Ptr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using BignumPtr = Ptr<BIGNUM, BN_free>;
/// Memory OpenSSL allocated for us (e.g. i2d output, BN_bn2hex).
using OpensslBytesPtr = Ptr<unsigned char, detail::opensslFree>;
using OpensslCharsPtr = Ptr<char, detail::opensslFreeChar>;

}  // namespace inkan::ossl
