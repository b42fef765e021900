// inkan — is a certificate revoked or suspended (休止)? OCSP (RFC 6960) and
// CRLs (RFC 5280 §5, §6.3), in a configurable order, with verified evidence only.
//
// "good" is reported only from a response or CRL whose signature, signer
// authority and freshness all check out; everything else is "unknown" with the
// cause. Requests go only to http:// URLs named by the certificate (AIA, CDP)
// or by the configuration. Results are cached until the evidence's nextUpdate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/chain.hpp"
#include "daemon/cert/trust_store.hpp"

namespace inkan::cert {

enum class RevocationMethod { Ocsp, Crl };

enum class RevocationStatus {
    Good,       // "good": verified evidence says not revoked
    Revoked,    // "revoked": permanently revoked; reason and time set
    Suspended,  // "suspended": on hold (CRLReason certificateHold, 休止); may be resumed
    Unknown,    // "unknown": no verified evidence; `cause` says why
};

/// Why the status is unknown. Stable names via unknownCauseName().
enum class UnknownCause {
    None,                   // "none"
    NoSource,               // "noSource": no OCSP/CRL URL in the certificate or configuration
    UnsupportedUrl,         // "unsupportedUrl": only non-http URLs (https, ldap, ...)
    ResponderDown,          // "responderDown": connection refused, timeout, HTTP error, too large
    MalformedResponse,      // "malformedResponse": not an OCSP response / CRL, or not about this certificate
    ResponderError,         // "responderError": OCSP responseStatus other than successful (tryLater, ...)
    BadSignature,           // "badSignature": the response or CRL signature does not verify
    UnauthorizedResponder,  // "unauthorizedResponder": signed by someone not allowed to speak for the issuer
    NonceMismatch,          // "nonceMismatch": the OCSP nonce differs (or is missing when required)
    Stale,                  // "stale": outside thisUpdate..nextUpdate (+ tolerance)
    NotKnownToResponder,    // "notKnownToResponder": OCSP certStatus unknown
    UnsupportedCrl,         // "unsupportedCrl": delta / indirect / partial-scope CRL
};

std::string_view revocationStatusName(RevocationStatus status);
std::string_view unknownCauseName(UnknownCause cause);
std::string_view revocationMethodName(RevocationMethod method);  // "ocsp", "crl"

struct RevocationConfig {
    std::vector<RevocationMethod> order{RevocationMethod::Ocsp, RevocationMethod::Crl};
    std::optional<std::string> ocspUrl;  // used instead of the certificate's AIA OCSP URL
    std::optional<std::string> crlUrl;   // used instead of the certificate's CRL distribution point
    std::chrono::seconds timeout{10};    // per HTTP request
    /// Tolerance for clock differences when comparing thisUpdate / nextUpdate.
    std::chrono::seconds clockSkew{std::chrono::minutes{5}};
    /// An OCSP response without nextUpdate is accepted only this soon after its thisUpdate.
    std::chrono::seconds maxAgeWithoutNextUpdate{std::chrono::hours{1}};
    bool sendNonce = true;       // RFC 8954 nonce in OCSP requests
    bool requireNonce = false;   // refuse responses without the nonce (some responders pre-sign)
    std::size_t maxOcspResponseBytes = 64 * 1024;
    std::size_t maxCrlBytes = 32 * 1024 * 1024;
    std::string httpProxy;       // "host:port"; empty: direct (the environment is not consulted)
    /// The current time; tests move it. Default: the system clock.
    std::function<std::chrono::system_clock::time_point()> clock;
};

/// One source consulted.
struct RevocationAttempt {
    RevocationMethod method = RevocationMethod::Ocsp;
    std::string url;
    RevocationStatus status = RevocationStatus::Unknown;
    UnknownCause cause = UnknownCause::None;
    std::string detail;
    bool fromCache = false;
};

struct RevocationResult {
    RevocationStatus status = RevocationStatus::Unknown;
    std::optional<RevocationMethod> source;   // what gave the verdict (not set when unknown)
    std::string url;                          // where the verdict came from
    /// CRLReason name (RFC 5280 §5.3.1), e.g. "keyCompromise", "certificateHold".
    std::optional<std::string> reason;
    std::optional<std::string> revocationTime;  // RFC 3339
    std::optional<std::string> thisUpdate;
    std::optional<std::string> nextUpdate;
    UnknownCause cause = UnknownCause::None;  // when unknown: the most telling cause among the attempts
    std::string detail;
    bool fromCache = false;
    std::string checkedAt;                    // RFC 3339
    std::vector<RevocationAttempt> attempts;  // every source consulted, in order
};

/// Checks revocation and keeps the evidence until its nextUpdate.
/// Thread-safe; check() blocks on the network: call it from a worker thread.
class RevocationChecker {
public:
    explicit RevocationChecker(RevocationConfig config = {});
    ~RevocationChecker();
    RevocationChecker(const RevocationChecker&) = delete;
    RevocationChecker& operator=(const RevocationChecker&) = delete;

    /// Status of `certDer`, issued by `issuerDer`. `trust` verifies the chains
    /// of delegated OCSP responders. Throws inkan::Error(BadRequest) when a
    /// DER is not a certificate or `issuerDer` did not sign `certDer`, and
    /// never for network or evidence problems.
    RevocationResult check(std::span<const std::uint8_t> certDer, std::span<const std::uint8_t> issuerDer,
                           const TrustStore& trust);

    /// Status of a validated chain's leaf (chain.chain[0] issued by chain.chain[1]).
    /// Unknown (noSource) when the chain has no issuer.
    RevocationResult check(const ChainResult& chain, const TrustStore& trust);

    void clearCache();

private:
    struct Impl;  // configuration, caches and their mutex
    std::unique_ptr<Impl> impl_;
};

}  // namespace inkan::cert
