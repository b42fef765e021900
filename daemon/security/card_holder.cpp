#include "daemon/security/card_holder.hpp"

#include <openssl/x509.h>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::security {

namespace {

/// The subject's organizationName (X.520 O) as UTF-8, or empty.
std::string subjectOrganization(const Bytes& der)
{
    const unsigned char* cursor = der.data();
    const ossl::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate) return {};
    const X509_NAME* subject = X509_get_subject_name(certificate.get());
    const int index = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1);
    if (index < 0) return {};
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, value);
    const ossl::OpensslBytesPtr owned(utf8);
    if (length <= 0) return {};
    return std::string(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
}

}  // namespace

std::string cardHolderName(const CardSummary& card)
{
    if (!card.certificates.empty()) {
        const Bytes& der = card.certificates.front().der;
        try {
            const cert::CertificateInfo info = cert::parseCertificate(der);
            if (info.registry.corporation && info.registry.corporation->corporateName &&
                !info.registry.corporation->corporateName->empty()) {
                return *info.registry.corporation->corporateName;
            }
            if (std::string organization = subjectOrganization(der); !organization.empty()) return organization;
            if (!info.subjectCommonName.empty()) return info.subjectCommonName;
        } catch (const std::exception&) {
            // An unparsable certificate names nobody; the label below still says which card.
        }
    }
    return card.label;
}

}  // namespace inkan::security
