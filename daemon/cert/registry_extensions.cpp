// inkan — decoders for the commercial registry's private extensions.
#include "daemon/cert/registry_extensions.hpp"

#include <algorithm>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "daemon/cert/der_reader.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/cert/x509_util.hpp"

namespace inkan::cert::registry {
namespace {

// registeredCorporationInfo field tags (context-specific, EXPLICIT), after the
// registry's published syntax and the public reference parser
// (jsrsasign-addon-jpcorpreg). [5] is unassigned there; unknown numbers are skipped.
constexpr std::uint8_t kTagCorporateName = 0;        // 商号
constexpr std::uint8_t kTagRegisteredNumber = 1;     // 会社法人等番号
constexpr std::uint8_t kTagHeadOffice = 2;           // 本店
constexpr std::uint8_t kTagRepresentativeName = 3;   // 代表者氏名
constexpr std::uint8_t kTagRepresentativeTitle = 4;  // 資格
constexpr std::uint8_t kTagRegistryOffice = 6;       // 管轄登記所

std::optional<std::string>* fieldFor(RegisteredCorporationInfo& info, std::uint8_t number) {
    switch (number) {
        case kTagCorporateName: return &info.corporateName;
        case kTagRegisteredNumber: return &info.registeredNumber;
        case kTagHeadOffice: return &info.headOffice;
        case kTagRepresentativeName: return &info.representativeName;
        case kTagRepresentativeTitle: return &info.representativeTitle;
        case kTagRegistryOffice: return &info.registryOffice;
        default: return nullptr;
    }
}

/// An EXPLICIT tag's contents: exactly one DirectoryString.
std::string explicitDirectoryString(const der::Tlv& tagged) {
    der::Reader inner(tagged.value);
    const der::Tlv str = inner.next();
    inner.expectEnd();
    return der::directoryStringToUtf8(str);
}

}  // namespace

std::string_view extensionName(std::string_view oid) {
    if (oid == kCertificatePoliciesJpOid) return "certificatePoliciesJP";
    if (oid == kRegistrarJpOid) return "registrarJP";
    if (oid == kRegisteredCorporationInfoOid) return "registeredCorporationInfo";
    return {};
}

bool isRegistryExtension(std::string_view oid) {
    return std::find(kExtensionOids.begin(), kExtensionOids.end(), oid) != kExtensionOids.end();
}

std::optional<std::vector<PolicyInfo>> decodePolicies(std::span<const std::uint8_t> extnValue) {
    const unsigned char* p = extnValue.data();
    ossl::CertificatePoliciesPtr policies(
        d2i_CERTIFICATEPOLICIES(nullptr, &p, static_cast<long>(extnValue.size())));
    if (!policies || p != extnValue.data() + extnValue.size()) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::vector<PolicyInfo> out;
    for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i) {
        const POLICYINFO* info = sk_POLICYINFO_value(policies.get(), i);
        PolicyInfo policy;
        policy.oid = oidText(info->policyid);
        for (int q = 0; q < sk_POLICYQUALINFO_num(info->qualifiers); ++q) {
            const POLICYQUALINFO* qual = sk_POLICYQUALINFO_value(info->qualifiers, q);
            if (OBJ_obj2nid(qual->pqualid) == NID_id_qt_unotice && qual->d.usernotice != nullptr &&
                qual->d.usernotice->exptext != nullptr) {
                policy.notices.push_back(asn1StringToUtf8(qual->d.usernotice->exptext));
            }
        }
        out.push_back(std::move(policy));
    }
    return out;
}

std::optional<std::string> decodeRegistrar(std::span<const std::uint8_t> extnValue) {
    try {
        der::Reader reader(extnValue);
        const der::Tlv str = reader.next();
        reader.expectEnd();
        return der::directoryStringToUtf8(str);
    } catch (const der::DerError&) {
        return std::nullopt;
    }
}

std::optional<RegisteredCorporationInfo> decodeRegisteredCorporationInfo(
    std::span<const std::uint8_t> extnValue) {
    try {
        RegisteredCorporationInfo info;
        der::Reader fields(der::single(extnValue, der::kTagSequence));
        while (!fields.atEnd()) {
            const der::Tlv field = fields.next();
            if (!field.isContextSpecific()) {
                throw der::DerError("registeredCorporationInfo holds only tagged fields");
            }
            std::optional<std::string>* slot = fieldFor(info, field.number());
            if (slot == nullptr) {
                continue;  // a field this version does not know: skip it, keep the rest
            }
            if (!field.isConstructed()) {
                throw der::DerError("EXPLICIT tag must be constructed");
            }
            if (slot->has_value()) {
                // Two 商号 or two 代表者 cannot both be shown truthfully.
                throw der::DerError("duplicate field");
            }
            *slot = explicitDirectoryString(field);
        }
        return info;
    } catch (const der::DerError&) {
        return std::nullopt;
    }
}

}  // namespace inkan::cert::registry
