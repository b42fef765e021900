// inkan-vcard — the private extensions of a 商業登記電子証明書 (commercial
// registration certificate), built as DER for the demo leaf certificate.
//
// Shapes follow the published test vectors (see the project's domain notes):
//   1.2.392.100300.1.1.1 certificatePoliciesJP   SEQUENCE OF PolicyInformation
//   1.2.392.100300.1.1.2 registrarJP             DirectoryString
//   1.2.392.100300.1.1.3 registeredCorporationInfo
//                          SEQUENCE { [0] 商号, [1] 会社法人等番号, [2] 本店,
//                                     [3] 代表者, [4] 資格, [6] 管轄登記所 }
//                          each field an EXPLICIT context tag around a DirectoryString.
// All three are marked critical on real certificates, so the demo marks them too.
#pragma once

#include <string>
#include <string_view>

#include "tools/vcard/bytes.hpp"

namespace inkan::vcard::registry {

inline constexpr std::string_view kOidCertificatePoliciesJp = "1.2.392.100300.1.1.1";
inline constexpr std::string_view kOidRegistrarJp = "1.2.392.100300.1.1.2";
inline constexpr std::string_view kOidRegisteredCorporationInfo = "1.2.392.100300.1.1.3";
/// The policy the registry's certificates carry in certificatePoliciesJP.
inline constexpr std::string_view kOidRegistryPolicy = "1.2.392.100300.1.3.4";

/// The registered facts about the company a certificate speaks for (UTF-8 text).
struct RegisteredCorporation {
    std::string tradeName;         // [0] 商号
    std::string registeredNumber;  // [1] 会社法人等番号: exactly 12 ASCII digits
    std::string headOffice;        // [2] 本店
    std::string representative;    // [3] 代表者氏名
    std::string title;             // [4] 資格, e.g. 代表取締役
    std::string registryOffice;    // [6] 管轄登記所
};

/// extnValue of certificatePoliciesJP: SEQUENCE OF PolicyInformation, one policy, no qualifiers.
Bytes certificatePoliciesJp(std::string_view policyOid);

/// extnValue of registrarJP: a UTF8String DirectoryString.
Bytes registrarJp(std::string_view registrar);

/// extnValue of registeredCorporationInfo. Throws std::invalid_argument when the
/// registered number is not 12 digits.
Bytes registeredCorporationInfo(const RegisteredCorporation& corporation);

}  // namespace inkan::vcard::registry
