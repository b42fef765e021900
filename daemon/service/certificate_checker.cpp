#include "daemon/service/certificate_checker.hpp"

#include <system_error>
#include <utility>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"
#include "daemon/service/rfc3339.hpp"

namespace inkan::service {

namespace {

using std::chrono::sys_seconds;

/// The trust store of the configured directory, read for every check so that
/// anchors dropped into it count without a restart. A missing directory is
/// an empty store (the project ships no anchors); the problem is reported.
cert::TrustStore loadTrustStore(const std::filesystem::path& dir, std::string& problem)
{
    std::error_code ec;
    if (dir.empty()) {
        problem = "no trust anchors directory is configured";
    } else if (!std::filesystem::is_directory(dir, ec)) {
        problem = "the trust anchors directory " + dir.string() + " does not exist";
    } else {
        try {
            auto store = cert::TrustStore::fromDirectory(dir);
            if (store.anchorCount() == 0) problem = "the trust anchors directory " + dir.string() + " holds no root certificate";
            return store;
        } catch (const std::exception& e) {
            problem = e.what();
        }
    }
    return cert::TrustStore::fromCertificates({});
}

std::string chainWords(const cert::ChainResult& chain)
{
    std::string words(cert::chainFailureName(chain.reason));
    if (!chain.detail.empty()) words += " (" + chain.detail + ")";
    return words;
}

std::string sourceWords(const cert::RevocationResult& revocation)
{
    if (!revocation.source) return {};
    std::string words = *revocation.source == cert::RevocationMethod::Ocsp ? "OCSP" : "the CRL";
    if (!revocation.url.empty()) words += " " + revocation.url;
    if (revocation.fromCache) words += ", cached";
    return words;
}

std::string summaryOf(const CertificateValidation& v, bool revocationEnabled)
{
    const std::string when = v.checkedAt;
    switch (v.verdict) {
    case Verdict::Invalid: {
        std::string text = "not valid at " + when + ": " + chainWords(v.chain);
        if (!v.trustAnchorsProblem.empty()) text += "; " + v.trustAnchorsProblem;
        return text;
    }
    case Verdict::Valid: {
        std::string text = "valid at " + when + ": the chain leads to a trust anchor";
        if (!revocationEnabled) return text + "; revocation checking is turned off";
        const auto& r = *v.revocation;
        if (r.status == cert::RevocationStatus::Good) return text + " and " + sourceWords(r) + " says not revoked";
        return text + "; " + (r.status == cert::RevocationStatus::Suspended ? "suspended" : "revoked") + " only on "
            + r.revocationTime.value_or("?") + ", after that time (" + sourceWords(r) + ")";
    }
    case Verdict::Revoked:
    case Verdict::Suspended: {
        const auto& r = *v.revocation;
        std::string text = v.verdict == Verdict::Revoked ? "revoked" : "suspended (休止)";
        if (r.revocationTime) text += " since " + *r.revocationTime;
        if (r.reason) text += " (" + *r.reason + ")";
        return text + ", per " + sourceWords(r);
    }
    case Verdict::Unknown: {
        if (!v.revocation) return "the chain holds, but revocation was not checked";
        const auto& r = *v.revocation;
        std::string text = "the chain holds, but the revocation status is unknown: "
            + std::string(cert::unknownCauseName(r.cause));
        if (!r.detail.empty()) text += " (" + r.detail + ")";
        return text;
    }
    }
    return {};
}

}  // namespace

std::string_view verdictName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Valid: return "valid";
    case Verdict::Invalid: return "invalid";
    case Verdict::Revoked: return "revoked";
    case Verdict::Suspended: return "suspended";
    case Verdict::Unknown: return "unknown";
    }
    return "unknown";
}

std::string_view revocationSkipName(RevocationSkip skip)
{
    switch (skip) {
    case RevocationSkip::None: return "none";
    case RevocationSkip::Disabled: return "disabled";
    case RevocationSkip::ChainInvalid: return "chainInvalid";
    }
    return "none";
}

Verdict verdictOf(const cert::ChainResult& chain, const std::optional<cert::RevocationResult>& revocation,
                  bool revocationEnabled, std::optional<sys_seconds> at)
{
    if (!chain.valid) return Verdict::Invalid;
    if (!revocationEnabled) return Verdict::Valid;
    // Never "valid" without evidence: a missing result is as good as none.
    if (!revocation) return Verdict::Unknown;
    switch (revocation->status) {
    case cert::RevocationStatus::Good: return Verdict::Valid;
    case cert::RevocationStatus::Unknown: return Verdict::Unknown;
    case cert::RevocationStatus::Revoked:
    case cert::RevocationStatus::Suspended: {
        // RFC 5280 §5.3.2 / RFC 6960 §4.2.1: revocationTime is when it took
        // effect. Asked about an earlier time, the certificate still held then.
        const auto since = revocation->revocationTime ? parseRfc3339(*revocation->revocationTime) : std::nullopt;
        if (at && since && *at < *since) return Verdict::Valid;
        return revocation->status == cert::RevocationStatus::Revoked ? Verdict::Revoked : Verdict::Suspended;
    }
    }
    return Verdict::Unknown;
}

const CertificateSummary* ownCertificate(const CardSummary& card)
{
    for (const auto& certificate : card.certificates) {
        if (certificate.id == card.signingCertificateId && certificate.readable) return &certificate;
    }
    for (const auto& certificate : card.certificates) {
        if (!certificate.readable) continue;
        try {
            const auto info = cert::parseCertificate(certificate.der);
            if (!(info.basicConstraints && info.basicConstraints->ca)) return &certificate;
        } catch (const std::exception&) {
            // Not a certificate: cannot be the card's own.
        }
    }
    return card.certificates.empty() ? nullptr : &card.certificates.front();
}

std::optional<cert::CertificateInfo> decodeListing(CertificateSummary& certificate)
{
    try {
        auto info = cert::parseCertificate(certificate.der);
        certificate.subject = info.subject;
        certificate.issuer = info.issuer;
        certificate.serialNumber = info.serialNumber;
        certificate.notBefore = info.notBefore;
        certificate.notAfter = info.notAfter;
        certificate.commonName = info.subjectCommonName;
        return info;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

CertificateChecker::CertificateChecker(CertificateCheckOptions options)
    : options_(std::move(options)), revocation_(options_.revocation), pool_(options_.threads, options_.maxQueued)
{
}

CertificateChecker::~CertificateChecker() { shutdown(); }

void CertificateChecker::shutdown()
{
    pool_.retire(Error(ErrorCode::Busy, "inkand is shutting down"));
}

void CertificateChecker::validate(Bytes leafDer, std::vector<Bytes> otherDers,
                                  std::optional<std::chrono::system_clock::time_point> at,
                                  Completion<CertificateValidation> done)
{
    run<CertificateValidation>(
        [this, leafDer = std::move(leafDer), otherDers = std::move(otherDers), at] {
            return validateNow(leafDer, otherDers, at);
        },
        std::move(done));
}

CertificateValidation CertificateChecker::validateNow(const Bytes& leafDer, const std::vector<Bytes>& otherDers,
                                                      std::optional<std::chrono::system_clock::time_point> at)
{
    CertificateValidation result;
    const cert::TrustStore trust = loadTrustStore(options_.trustAnchorsDir, result.trustAnchorsProblem);
    result.trustAnchorCount = trust.anchorCount();

    // The leaf itself is not offered as an intermediate to its own chain, and
    // a card file that is no certificate cannot be one either.
    std::vector<Bytes> others;
    for (const auto& der : otherDers) {
        if (der == leafDer) continue;
        try {
            (void)cert::decodeDer(der);
            others.push_back(der);
        } catch (const Error&) {
        }
    }
    result.chain = cert::validateChain(leafDer, others, trust, at);
    result.checkedAt = result.chain.checkedAt;

    if (!options_.revocationEnabled) {
        result.revocationSkipped = RevocationSkip::Disabled;
    } else if (!result.chain.valid) {
        result.revocationSkipped = RevocationSkip::ChainInvalid;
    } else {
        result.revocation = revocation_.check(result.chain, trust);
    }

    const auto asOf = at ? std::optional(std::chrono::floor<std::chrono::seconds>(*at)) : std::nullopt;
    result.verdict = verdictOf(result.chain, result.revocation, options_.revocationEnabled, asOf);
    result.summary = summaryOf(result, options_.revocationEnabled);
    return result;
}

}  // namespace inkan::service
