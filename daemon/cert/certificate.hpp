// inkan — X.509 certificates as inkan shows them (owned by daemon/cert/).
//
// parseCertificate() decodes everything a user or a portal needs to see in one
// pass. Chain building lives in chain.hpp, revocation in revocation.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace inkan::cert {

/// The subject public key.
struct PublicKeyInfo {
    std::string type;                  // "RSA", "EC", "Ed25519", "Ed448", "DSA" or the OpenSSL short name
    int bits = 0;                      // modulus / group order size
    std::optional<std::string> curve;  // EC only, e.g. "prime256v1"
};

/// An object identifier with the name inkan knows it by ("" when unknown).
struct NamedOid {
    std::string oid;   // dotted decimal
    std::string name;  // e.g. "emailProtection", "registeredCorporationInfo"
    bool operator==(const NamedOid&) const = default;
};

struct BasicConstraints {
    bool ca = false;
    std::optional<long> pathLength;
    bool critical = false;
};

/// A subjectAltName otherName (JPKI carries name, birth date, sex and address
/// this way), decoded generically.
struct OtherName {
    std::string oid;
    std::string value;      // the value as UTF-8 when it is a string type
    bool isString = false;  // false: value holds the DER of the value, upper hex
};

struct SubjectAltNames {
    std::vector<std::string> email;  // rfc822Name
    std::vector<std::string> dns;
    std::vector<std::string> uri;
    std::vector<std::string> ip;
    std::vector<std::string> directoryName;  // RFC 4514, UTF-8
    std::vector<OtherName> otherName;
    bool empty() const {
        return email.empty() && dns.empty() && uri.empty() && ip.empty() && directoryName.empty() &&
               otherName.empty();
    }
};

/// One entry of the extension list, for display and diagnostics.
struct ExtensionSummary {
    NamedOid id;
    bool critical = false;
    /// False when inkan knows the extension but its contents could not be decoded
    /// (the fields it would fill are then left empty). True for extensions
    /// inkan shows only by OID.
    bool decoded = true;
};

/// 商業登記電子証明書 registeredCorporationInfo (1.2.392.100300.1.1.3): the
/// company and representative as registered. Every field is optional in the
/// encoding; absent tags stay nullopt.
struct RegisteredCorporationInfo {
    std::optional<std::string> corporateName;        // [0] 商号
    std::optional<std::string> registeredNumber;     // [1] 会社法人等番号 (12 digits)
    std::optional<std::string> headOffice;           // [2] 本店
    std::optional<std::string> representativeName;   // [3] 代表者氏名
    std::optional<std::string> representativeTitle;  // [4] 資格, e.g. 代表取締役
    std::optional<std::string> registryOffice;       // [6] 管轄登記所
    bool operator==(const RegisteredCorporationInfo&) const = default;
};

/// A certificate policy: the OID and the explicit texts of its user notices.
struct PolicyInfo {
    std::string oid;
    std::vector<std::string> notices;  // UserNotice explicitText, UTF-8
    bool operator==(const PolicyInfo&) const = default;
};

/// The three private extensions of the commercial registry's certificates.
/// A present but malformed extension leaves its field empty and is listed in
/// `undecodable` (by OID).
struct RegistryExtensions {
    std::vector<PolicyInfo> certificatePoliciesJP;             // 1.2.392.100300.1.1.1
    std::optional<std::string> registrar;                      // 1.2.392.100300.1.1.2, e.g. 東京法務局登記官
    std::optional<RegisteredCorporationInfo> corporation;      // 1.2.392.100300.1.1.3
    std::vector<std::string> undecodable;
    bool present() const {
        return !certificatePoliciesJP.empty() || registrar || corporation || !undecodable.empty();
    }
};

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

    // The same validity period, for arithmetic (see expiryOf()).
    std::chrono::sys_seconds notBeforeTime{};
    std::chrono::sys_seconds notAfterTime{};

    int version = 0;                  // 1, 2 or 3
    std::string signatureAlgorithm;   // e.g. "sha256WithRSAEncryption"
    bool selfSigned = false;          // issuer == subject and the signature verifies with its own key
    PublicKeyInfo publicKey;
    std::vector<std::string> keyUsage;          // RFC 5280 names: "digitalSignature", "nonRepudiation", ...
    std::vector<NamedOid> extendedKeyUsage;
    std::vector<PolicyInfo> certificatePolicies;
    std::vector<std::string> ocspUrls;          // AIA id-ad-ocsp
    std::vector<std::string> caIssuersUrls;     // AIA id-ad-caIssuers
    std::vector<std::string> crlUrls;           // CDP fullName URIs
    std::optional<BasicConstraints> basicConstraints;
    SubjectAltNames subjectAltNames;
    RegistryExtensions registry;
    std::vector<ExtensionSummary> extensions;   // every extension, in certificate order
};

/// Parse a DER certificate. Throws inkan::Error(ErrorCode::BadRequest) when the bytes
/// are not a certificate (callers reading a card map that to CardError).
/// An extension that cannot be decoded never makes this throw: it is reported in
/// `extensions[i].decoded` (and `registry.undecodable`).
CertificateInfo parseCertificate(std::span<const std::uint8_t> der);

/// PEM ("-----BEGIN CERTIFICATE-----") or DER in, one DER certificate out.
/// Throws inkan::Error(ErrorCode::BadRequest) when neither.
std::vector<std::uint8_t> certificateDerFromPemOrDer(std::span<const std::uint8_t> bytes);

/// How long a certificate still has.
struct Expiry {
    /// Whole days until notAfter, rounded down; negative once expired.
    std::int64_t daysLeft = 0;
    bool expired = false;        // now > notAfter
    bool notYetValid = false;    // now < notBefore
    bool expiringSoon = false;   // not expired and notAfter is at most warnDays away (renewal time)
};

inline constexpr int kDefaultExpiryWarningDays = 30;

Expiry expiryOf(const CertificateInfo& info, std::chrono::system_clock::time_point now,
                int warnDays = kDefaultExpiryWarningDays);

}  // namespace inkan::cert
