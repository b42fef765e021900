// inkan — small conversions from OpenSSL types to inkan's text forms, shared
// by the certificate, chain and revocation code (daemon/cert/ internal).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::cert {

/// Decode exactly one DER certificate (no trailing bytes).
/// Throws inkan::Error(BadRequest) otherwise.
ossl::X509Ptr decodeDer(std::span<const std::uint8_t> der);

/// The DER encoding of a certificate.
std::vector<std::uint8_t> encodeDer(X509* x509);

/// RFC 4514 string with non-ASCII characters kept as UTF-8.
std::string distinguishedName(const X509_NAME* name);

/// Any ASN.1 string type (UTF8, BMP, Printable, T61, IA5, ...) as UTF-8 with
/// control characters replaced by U+FFFD; nullopt when OpenSSL cannot convert
/// it (invalid UTF-8, lone surrogates, ...).
std::optional<std::string> tryAsn1StringToUtf8(const ASN1_STRING* str);

/// The same, empty when it cannot be converted.
std::string asn1StringToUtf8(const ASN1_STRING* str);

/// Dotted-decimal form of an OID ("" for null).
std::string oidText(const ASN1_OBJECT* obj);

/// RFC 3339 UTC, e.g. "2026-01-01T00:00:00Z"; nullopt when the time is unreadable.
std::optional<std::string> rfc3339(const ASN1_TIME* time);
std::string rfc3339(std::chrono::sys_seconds time);

/// The time as seconds since the epoch; nullopt when unreadable.
std::optional<std::chrono::sys_seconds> toSysSeconds(const ASN1_TIME* time);

/// Upper-case hex without separators.
std::string hexUpper(std::span<const std::uint8_t> bytes);

/// The serial number as upper-case hex.
std::string serialHex(const ASN1_INTEGER* serial);

/// URIs of AIA id-ad-ocsp / id-ad-caIssuers and of the CRL distribution points,
/// as the bytes the certificate holds. Entries that are not plain printable
/// ASCII are dropped: they cannot be valid URIs (RFC 3986) and must never be
/// fetched or displayed as if they were.
std::vector<std::string> ocspUrlsOf(X509* x509);
std::vector<std::string> caIssuersUrlsOf(X509* x509);
std::vector<std::string> crlUrlsOf(X509* x509);

}  // namespace inkan::cert
