// inkan — certificate path validation (RFC 5280 §6, by OpenSSL's verifier)
// against a TrustStore, optionally "as of" a chosen time (有効性確認 at a date).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/trust_store.hpp"

namespace inkan::cert {

/// Why a chain is not valid. Stable names via chainFailureName().
enum class ChainFailure {
    None,                        // "none": the chain is valid
    Expired,                     // "expired": a certificate of the chain is past notAfter
    NotYetValid,                 // "notYetValid": a certificate of the chain is before notBefore
    UnknownIssuer,               // "unknownIssuer": no path to a trust anchor
    UnhandledCriticalExtension,  // "unhandledCriticalExtension": a critical extension nobody handles
    BadSignature,                // "badSignature": a signature does not verify
    InvalidCa,                   // "invalidCa": an issuer is not allowed to issue (CA flag, key usage, path length)
    Malformed,                   // "malformed": unreadable fields (times, keys) in a certificate
    Other,                       // "other": any other verifier error; see `detail`
};

std::string_view chainFailureName(ChainFailure failure);

/// One certificate of the built chain.
struct ChainLink {
    std::string subject;  // RFC 4514, UTF-8
    std::string issuer;
    std::string serialNumber;
    std::string notAfter;
    bool trustAnchor = false;
    std::vector<std::uint8_t> der;
};

struct ChainResult {
    bool valid = false;
    ChainFailure reason = ChainFailure::Other;
    std::string detail;           // the verifier's message, e.g. "certificate has expired"
    int failingDepth = -1;        // 0 = the leaf; -1 when valid
    std::string checkedAt;        // RFC 3339: the time the chain was evaluated for
    std::vector<ChainLink> chain; // leaf first, anchor last; on failure, as far as it was built
};

/// Build and verify the path from `leafDer` to an anchor of `trust`.
/// `extraCertsDer` are more untrusted certificates (those the card holds).
/// `at` evaluates validity periods at that time instead of now.
/// Revocation is not checked here (see revocation.hpp).
/// Throws inkan::Error(BadRequest) when the leaf or an extra is not a certificate.
ChainResult validateChain(std::span<const std::uint8_t> leafDer,
                          std::span<const std::vector<std::uint8_t>> extraCertsDer, const TrustStore& trust,
                          std::optional<std::chrono::system_clock::time_point> at = std::nullopt);

/// The same, loading the trust store from a directory (see TrustStore::fromDirectory).
ChainResult validateChain(std::span<const std::uint8_t> leafDer,
                          std::span<const std::vector<std::uint8_t>> extraCertsDer,
                          const std::filesystem::path& trustAnchorsDir,
                          std::optional<std::chrono::system_clock::time_point> at = std::nullopt);

}  // namespace inkan::cert
