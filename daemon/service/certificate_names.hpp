// inkan — the attributes of a certificate's subject and issuer names, one by
// one (RFC 5280 §4.1.2.4), for callers that need "O" or "CN" on its own rather
// than the RFC 4514 string of certificate.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace inkan::service {

struct NameAttribute {
    std::string type;   // OpenSSL's short name ("CN", "O", "OU", "C", ...), else the OID
    std::string oid;    // dotted decimal
    std::string value;  // UTF-8; upper-case hex of the value's bytes when it is not a string
};

struct CertificateNames {
    std::vector<NameAttribute> subject;  // in certificate order (most general first)
    std::vector<NameAttribute> issuer;
};

/// The names of a DER certificate. Throws inkan::Error(BadRequest) when the
/// bytes are not a certificate.
CertificateNames certificateNames(std::span<const std::uint8_t> der);

}  // namespace inkan::service
