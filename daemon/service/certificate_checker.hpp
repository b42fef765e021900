// inkan — is a card's certificate valid (有効性確認), now or as of a chosen
// time: the chain to a configured trust anchor, then revocation (OCSP / CRL),
// combined into one verdict.
//
//   CertificateChecker checker(options);
//   checker.validate(leafDer, otherCardCerts, std::nullopt, [](Outcome<CertificateValidation> r) { ... });
//
// Checks block on the network (OCSP responders, CRL servers), so they run on
// the checker's own small thread pool: never on the HTTP I/O thread, never on
// a card's worker. Completions run on a pool thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/chain.hpp"
#include "daemon/cert/revocation.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/task_pool.hpp"

namespace inkan::service {

/// The one-word answer of a validation. Stable names via verdictName().
enum class Verdict {
    Valid,      // "valid": the chain holds and, when revocation checking is on, good evidence says not revoked
    Invalid,    // "invalid": the chain does not hold (expired, not yet valid, unknown issuer, bad extension, ...)
    Revoked,    // "revoked": revoked (permanently) at the time asked about
    Suspended,  // "suspended": on hold (certificateHold, 休止) at the time asked about
    Unknown,    // "unknown": the chain holds but no verified revocation evidence could be had
};

std::string_view verdictName(Verdict verdict);

/// Why revocation was not asked about. Stable names via revocationSkipName().
enum class RevocationSkip {
    None,          // "none": it was checked
    Disabled,      // "disabled": the configuration turned revocation checking off
    ChainInvalid,  // "chainInvalid": there is no valid chain, hence no issuer to ask about
};

std::string_view revocationSkipName(RevocationSkip skip);

struct CertificateValidation {
    Verdict verdict = Verdict::Unknown;
    /// One sentence saying why, for people (e.g. "revoked on 2026-… (keyCompromise)").
    std::string summary;
    /// RFC 3339: the time validity was judged for (the `at` asked for, else now).
    std::string checkedAt;
    cert::ChainResult chain;
    /// Set when revocation was checked (revocationSkipped == None).
    std::optional<cert::RevocationResult> revocation;
    RevocationSkip revocationSkipped = RevocationSkip::None;
    /// How many trust anchors the configured directory held, and a problem reading it.
    std::size_t trustAnchorCount = 0;
    std::string trustAnchorsProblem;
};

struct CertificateCheckOptions {
    /// PEM/DER roots and intermediates; a missing directory means no anchors.
    std::filesystem::path trustAnchorsDir;
    bool revocationEnabled = true;
    cert::RevocationConfig revocation;
    /// Threads for blocking checks, and how many checks may wait for one.
    std::size_t threads = 2;
    std::size_t maxQueued = 32;
};

/// The verdict from a chain and the revocation evidence. With `at` (the time
/// asked about): a revocation or hold that took effect after `at` did not yet
/// apply then, so the certificate was valid at `at`. Evidence is always
/// today's: a hold that has been lifted since `at` is not visible.
Verdict verdictOf(const cert::ChainResult& chain, const std::optional<cert::RevocationResult>& revocation,
                  bool revocationEnabled, std::optional<std::chrono::sys_seconds> at);

/// The card's own certificate: its signing certificate once readable, else
/// the first readable one that parses and is not a CA (the JPKI card's
/// authentication certificate before its sign PIN is verified), else the
/// first; null for a card without certificates.
const CertificateSummary* ownCertificate(const CardSummary& card);

/// Fills `certificate`'s listing fields (subject, issuer, serial, validity,
/// CN) from its `der`; answers the decoded certificate, or none when the DER
/// does not parse (the certificate is then listed with its id and DER only).
std::optional<cert::CertificateInfo> decodeListing(CertificateSummary& certificate);

class CertificateChecker {
public:
    explicit CertificateChecker(CertificateCheckOptions options);
    /// Stops the pool (running checks finish, queued ones fail with Busy).
    ~CertificateChecker();

    CertificateChecker(const CertificateChecker&) = delete;
    CertificateChecker& operator=(const CertificateChecker&) = delete;

    /// Validate `leafDer` with `otherDers` (the card's other certificates) as
    /// untrusted intermediates, as of `at` (default: now). Completes on a pool
    /// thread; BadRequest when the leaf is not a certificate, Busy when too
    /// many checks are waiting or the checker is stopping.
    void validate(Bytes leafDer, std::vector<Bytes> otherDers,
                  std::optional<std::chrono::system_clock::time_point> at, Completion<CertificateValidation> done);

    /// The same, blocking: only for code already running on the pool (see run()).
    CertificateValidation validateNow(const Bytes& leafDer, const std::vector<Bytes>& otherDers,
                                      std::optional<std::chrono::system_clock::time_point> at);

    /// Runs `body` (which may block on the network) on the pool and completes
    /// `done` with its value or what it threw.
    template <class T, class Body>
    void run(Body body, Completion<T> done)
    {
        runOnPool<T>(pool_, std::move(body), std::move(done));
    }

    const std::filesystem::path& trustAnchorsDir() const noexcept { return options_.trustAnchorsDir; }
    bool revocationEnabled() const noexcept { return options_.revocationEnabled; }

    /// Take no more checks; the running ones finish. For the daemon's stop.
    void shutdown();

private:
    const CertificateCheckOptions options_;
    cert::RevocationChecker revocation_;  // thread-safe; its caches outlive single checks
    TaskPool pool_;                       // last: its threads use the members above
};

}  // namespace inkan::service
