// inkan-vcard — DER of the 商業登記 registry extensions.
#include "tools/vcard/registry_extensions.hpp"

#include <algorithm>
#include <stdexcept>

#include "tools/vcard/der.hpp"

namespace inkan::vcard::registry {

namespace {

// Context tag numbers of registeredCorporationInfo's fields. [5] is not used by
// the registry's certificates (readers skip unknown tags), so it is not emitted.
constexpr unsigned kTagTradeName = 0;
constexpr unsigned kTagRegisteredNumber = 1;
constexpr unsigned kTagHeadOffice = 2;
constexpr unsigned kTagRepresentative = 3;
constexpr unsigned kTagTitle = 4;
constexpr unsigned kTagRegistryOffice = 6;

constexpr std::size_t kRegisteredNumberDigits = 12;

}  // namespace

Bytes certificatePoliciesJp(std::string_view policyOid)
{
    // certificatePoliciesJP ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
    // PolicyInformation ::= SEQUENCE { policyIdentifier OBJECT IDENTIFIER,
    //                                  policyQualifiers ... OPTIONAL }  (RFC 5280 §4.2.1.4)
    // e.g. 30 0D 30 0B 06 09 2A 83 08 86 8F 4C 01 03 04
    return der::sequence({der::sequence({der::objectIdentifier(policyOid)})});
}

Bytes registrarJp(std::string_view registrar)
{
    // A single DirectoryString; UTF8String (0C) because the name is Japanese.
    return der::utf8String(registrar);
}

Bytes registeredCorporationInfo(const RegisteredCorporation& corporation)
{
    const auto& number = corporation.registeredNumber;
    if (number.size() != kRegisteredNumberDigits ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw std::invalid_argument("会社法人等番号 must be exactly 12 digits");

    // SEQUENCE { [0] EXPLICIT UTF8String, [1] EXPLICIT PrintableString, ... },
    // i.e. 30 len  A0 len 0C len <商号>  A1 0E 13 0C <12 digits>  A2 ... A6 ...
    return der::sequence({
        der::explicitTag(kTagTradeName, der::utf8String(corporation.tradeName)),
        der::explicitTag(kTagRegisteredNumber, der::printableString(number)),
        der::explicitTag(kTagHeadOffice, der::utf8String(corporation.headOffice)),
        der::explicitTag(kTagRepresentative, der::utf8String(corporation.representative)),
        der::explicitTag(kTagTitle, der::utf8String(corporation.title)),
        der::explicitTag(kTagRegistryOffice, der::utf8String(corporation.registryOffice)),
    });
}

}  // namespace inkan::vcard::registry
