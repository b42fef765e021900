// inkan — X.509 certificates as inkan shows them (owned by daemon/cert/).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace inkan::cert {

/// The fields of a certificate a user or a portal needs, decoded once.
/// Strings are UTF-8; times are RFC 3339 UTC ("2026-01-01T00:00:00Z").
struct CertificateInfo {
    std::string subject;       // RFC 4514, UTF-8 (Japanese decoded from UTF8/BMP/Printable/T61 strings)
    std::string issuer;        // RFC 4514, UTF-8
    std::string subjectCommonName;
    std::string serialNumber;  // upper-case hex, no separators
    std::string notBefore;
    std::string notAfter;
    std::string sha256Fingerprint;  // upper-case hex
    // Later (certificate issue): key type/size, usages, policies, AIA/CDP, registry extensions.
};

/// Parse a DER certificate. Throws inkan::Error(ErrorCode::BadRequest) when the bytes
/// are not a certificate (callers reading a card map that to CardError).
CertificateInfo parseCertificate(std::span<const std::uint8_t> der);

}  // namespace inkan::cert
