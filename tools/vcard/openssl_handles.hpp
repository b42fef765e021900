// inkan-vcard — owning handles for the OpenSSL objects the virtual card uses.
//
// Every OpenSSL object lives in one of these aliases from the moment it is
// allocated, so no code path frees by hand and early returns/throws leak nothing.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace inkan::vcard::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

namespace detail {
// Free functions whose signature does not fit Deleter (int return, macros).
inline void bioFree(BIO* b) { BIO_free_all(b); }
inline void asn1ObjectFree(ASN1_OBJECT* o) { ASN1_OBJECT_free(o); }
inline void asn1OctetStringFree(ASN1_OCTET_STRING* s) { ASN1_OCTET_STRING_free(s); }
inline void asn1IntegerFree(ASN1_INTEGER* i) { ASN1_INTEGER_free(i); }
inline void asn1TimeFree(ASN1_TIME* t) { ASN1_TIME_free(t); }
inline void extensionFree(X509_EXTENSION* e) { X509_EXTENSION_free(e); }
}  // namespace detail

using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using X509Ptr = Ptr<X509, X509_free>;
using X509NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using ExtensionPtr = Ptr<X509_EXTENSION, detail::extensionFree>;
using BioPtr = Ptr<BIO, detail::bioFree>;
using BignumPtr = Ptr<BIGNUM, BN_free>;
using ObjectPtr = Ptr<ASN1_OBJECT, detail::asn1ObjectFree>;
using OctetStringPtr = Ptr<ASN1_OCTET_STRING, detail::asn1OctetStringFree>;
using IntegerPtr = Ptr<ASN1_INTEGER, detail::asn1IntegerFree>;
using TimePtr = Ptr<ASN1_TIME, detail::asn1TimeFree>;

/// Thrown when an OpenSSL call fails; carries OpenSSL's own reason.
class OpensslError : public std::runtime_error {
public:
    explicit OpensslError(const std::string& what) : std::runtime_error(what + describeQueue()) {}

private:
    static std::string describeQueue()
    {
        const unsigned long code = ERR_get_error();
        ERR_clear_error();
        if (code == 0) return {};
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        return std::string(": ") + buf;
    }
};

/// Throws OpensslError(what) unless `ok` (the usual 1-on-success convention).
inline void check(int ok, const char* what)
{
    if (ok != 1) throw OpensslError(what);
}

/// Takes ownership of a freshly allocated object, throwing when allocation failed.
template <typename Handle>
Handle own(typename Handle::pointer raw, const char* what)
{
    if (raw == nullptr) throw OpensslError(what);
    return Handle(raw);
}

}  // namespace inkan::vcard::ossl
