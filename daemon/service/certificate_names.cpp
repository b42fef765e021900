#include "daemon/service/certificate_names.hpp"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "daemon/cert/x509_util.hpp"

namespace inkan::service {

namespace {

std::vector<NameAttribute> attributesOf(const X509_NAME* name)
{
    std::vector<NameAttribute> attributes;
    const int count = X509_NAME_entry_count(name);
    for (int i = 0; i < count; ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
        const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
        NameAttribute attribute;
        attribute.oid = cert::oidText(object);
        const int nid = OBJ_obj2nid(object);
        const char* shortName = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
        attribute.type = shortName ? shortName : attribute.oid;
        if (auto text = cert::tryAsn1StringToUtf8(data)) {
            attribute.value = std::move(*text);
        } else {
            attribute.value = cert::hexUpper({ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data))});
        }
        attributes.push_back(std::move(attribute));
    }
    return attributes;
}

}  // namespace

CertificateNames certificateNames(std::span<const std::uint8_t> der)
{
    const ossl::X509Ptr certificate = cert::decodeDer(der);
    return CertificateNames{attributesOf(X509_get_subject_name(certificate.get())),
                            attributesOf(X509_get_issuer_name(certificate.get()))};
}

}  // namespace inkan::service
