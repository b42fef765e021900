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

#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::vcard::ossl {

// The owning pointer template is the daemon's (daemon/cert/openssl_ptr.hpp);
// the aliases below name the objects the card creates.
using inkan::ossl::Ptr;

using PkeyPtr = inkan::ossl::EvpPkeyPtr;
using PkeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = inkan::ossl::EvpMdCtxPtr;
using X509Ptr = inkan::ossl::X509Ptr;
using X509NamePtr = inkan::ossl::X509NamePtr;
using ExtensionPtr = inkan::ossl::X509ExtensionPtr;
using BioPtr = inkan::ossl::BioPtr;
using BignumPtr = inkan::ossl::BignumPtr;
using ObjectPtr = inkan::ossl::Asn1ObjectPtr;
using OctetStringPtr = Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using IntegerPtr = inkan::ossl::Asn1IntegerPtr;
using TimePtr = inkan::ossl::Asn1TimePtr;

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
