// inkan — the commercial registry's private certificate extensions
// (商業登記電子証明書, arc 1.2.392.100300 of the Ministry of Justice).
//
// Decoders take the extension's extnValue contents (the bytes inside the
// OCTET STRING) and return nullopt when they are malformed; they never throw
// and never read outside the span (fuzzed by tests/fuzz/fuzz_cert.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/certificate.hpp"

namespace inkan::cert::registry {

/// certificatePoliciesJP: same syntax as certificatePolicies (RFC 5280 §4.2.1.4).
inline constexpr std::string_view kCertificatePoliciesJpOid = "1.2.392.100300.1.1.1";
/// registrarJP: one DirectoryString naming the registrar, e.g. 東京法務局登記官.
inline constexpr std::string_view kRegistrarJpOid = "1.2.392.100300.1.1.2";
/// registeredCorporationInfo: SEQUENCE of EXPLICIT [n] DirectoryString.
inline constexpr std::string_view kRegisteredCorporationInfoOid = "1.2.392.100300.1.1.3";

inline constexpr std::array<std::string_view, 3> kExtensionOids = {
    kCertificatePoliciesJpOid, kRegistrarJpOid, kRegisteredCorporationInfoOid};

/// The registry's policy for commercial registration certificates.
inline constexpr std::string_view kCommercialRegistrationPolicyOid = "1.2.392.100300.1.3.4";

/// Display names of the three extensions ("" for any other OID).
std::string_view extensionName(std::string_view oid);

/// True for the three registry extension OIDs.
bool isRegistryExtension(std::string_view oid);

/// RFC 5280 CertificatePolicies syntax (used by both certificatePolicies and
/// certificatePoliciesJP): policy OIDs with their user-notice texts.
std::optional<std::vector<PolicyInfo>> decodePolicies(std::span<const std::uint8_t> extnValue);

std::optional<std::string> decodeRegistrar(std::span<const std::uint8_t> extnValue);

std::optional<RegisteredCorporationInfo> decodeRegisteredCorporationInfo(
    std::span<const std::uint8_t> extnValue);

}  // namespace inkan::cert::registry
