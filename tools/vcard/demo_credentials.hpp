// inkan-vcard — the demo keys and certificates a new virtual card is born with.
//
// The JPKI card (--profile jpki) gets its own pair of chains, below.
//
// A two-level chain shaped like the registry's: a self-signed demo CA (named as
// a demo, never as the Ministry) issues a leaf that looks like a
// 商業登記電子証明書 for a company representative, with the registry's three
// private critical extensions. Nothing here is trusted by anything.
#pragma once

#include <chrono>

#include "tools/vcard/openssl_handles.hpp"

namespace inkan::vcard {

/// RSA modulus size of the card's signing key (reference card spec: "RSA-2048").
inline constexpr int kSigningKeyBits = 2048;
/// Validity of the demo leaf: the longest term the registry issues (3..27 months).
inline constexpr int kLeafValidityMonths = 27;
/// Validity of the demo CA; comfortably covers any leaf it issues.
inline constexpr int kCaValidityMonths = 120;

struct DemoCredentials {
    ossl::PkeyPtr signingKey;
    ossl::X509Ptr signingCertificate;
    ossl::PkeyPtr caKey;
    ossl::X509Ptr caCertificate;
};

/// Generates the signing key and the demo CA, and issues the leaf, valid from `now`.
DemoCredentials issueDemoCredentials(std::chrono::system_clock::time_point now);

/// Validity of the JPKI demo certificates: a real JPKI certificate lasts about 5 years.
inline constexpr int kJpkiValidityMonths = 60;

/// The JPKI card's two key pairs, each issued by its own demo CA (a real card's
/// certificates come from two J-LIS CAs: "for user authentication" and "for
/// digital signature"). Every name says TEST; nothing here is J-LIS's.
struct JpkiDemoCredentials {
    ossl::PkeyPtr authKey;
    ossl::X509Ptr authCertificate;
    ossl::PkeyPtr authCaKey;
    ossl::X509Ptr authCaCertificate;
    ossl::PkeyPtr signKey;
    ossl::X509Ptr signCertificate;
    ossl::PkeyPtr signCaKey;
    ossl::X509Ptr signCaCertificate;
};

/// Generates the four RSA-2048 keys and issues the two CAs and two leaves, valid from `now`.
JpkiDemoCredentials issueJpkiDemoCredentials(std::chrono::system_clock::time_point now);

/// `t` plus `months` calendar months in UTC; the day of month is clamped to the
/// target month's length (31 Jan + 1 month = 28/29 Feb).
std::chrono::system_clock::time_point addMonths(std::chrono::system_clock::time_point t, int months);

}  // namespace inkan::vcard
