#include "daemon/service/self_test.hpp"

#include <algorithm>
#include <memory>
#include <utility>
#include <variant>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"

namespace inkan::service {

namespace {

// The test signature is over a fresh random value, so it can never be
// replayed as a signature over anything meaningful. FIPS 180-4: 32 bytes.
constexpr std::size_t kTestDigestLength = 32;

using EvpPkeyCtxPtr = ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

constexpr std::string_view kInternalFailure = "INTERNAL: an unexpected error occurred in inkand";

SelfTestCheck pass(std::string name, std::string detail) { return {std::move(name), CheckResult::Pass, std::move(detail)}; }
SelfTestCheck fail(std::string name, std::string detail) { return {std::move(name), CheckResult::Fail, std::move(detail)}; }
SelfTestCheck skip(std::string name, std::string detail) { return {std::move(name), CheckResult::Skipped, std::move(detail)}; }

std::string triesText(int tries) { return std::to_string(tries) + (tries == 1 ? " try" : " tries"); }

/// A card operation's failure in words, with the tries left where the card said.
std::string describe(std::exception_ptr failure)
{
    try {
        std::rethrow_exception(failure);
    } catch (const Error& e) {
        switch (e.code()) {
        case ErrorCode::PinIncorrect:
            return "wrong PIN: " + (e.triesLeft ? triesText(*e.triesLeft) + " left before the card locks" : std::string("try counter unknown"));
        case ErrorCode::PinBlocked: return "the PIN is blocked";
        case ErrorCode::PinGuard:
            return "inkand's PIN guard refused to spend a try" + (e.triesLeft ? " (" + triesText(*e.triesLeft) + " left)" : std::string());
        // Like a problem+json answer: an internal failure's text is for the log only.
        case ErrorCode::Internal: return std::string(kInternalFailure);
        default: return std::string(errorCodeName(e.code())) + ": " + e.what();
        }
    } catch (...) {
        return std::string(kInternalFailure);
    }
}

template <class T>
const T* valueOf(const Outcome<T>& outcome)
{
    return std::get_if<T>(&outcome);
}

template <class T>
std::exception_ptr failureOf(const Outcome<T>& outcome)
{
    const auto* failure = std::get_if<std::exception_ptr>(&outcome);
    return failure ? *failure : nullptr;
}

/// Everything the card steps learnt, handed from one completion to the next
/// (each runs after the previous one finished, on whichever thread completed it).
struct Run {
    SelfTestCardSteps steps;
    CertificateChecker& checker;
    std::string cardId;
    std::optional<Secret> pin;  // moved into the signature request when it is made
    const bool pinGiven;
    Completion<SelfTestReport> done;

    CardSummary card;
    std::optional<AgentStatus> status;
    std::exception_ptr statusFailure;
    std::optional<PinStatus> pinStatus;
    std::exception_ptr pinStatusFailure;
    Bytes digest;
    std::optional<SignResult> signature;
    std::exception_ptr signFailure;

    Run(SelfTestCardSteps s, CertificateChecker& c, std::string id, std::optional<Secret> p, Completion<SelfTestReport> d)
        : steps(std::move(s)), checker(c), cardId(std::move(id)), pin(std::move(p)), pinGiven(pin.has_value()), done(std::move(d))
    {
    }
};

void finish(const std::shared_ptr<Run>& run);

void signTestDigest(const std::shared_ptr<Run>& run)
{
    const bool canSign = run->pin && run->pinStatus && !run->pinStatus->blocked;
    if (!canSign) {
        finish(run);
        return;
    }
    run->digest.resize(kTestDigestLength);
    if (RAND_bytes(run->digest.data(), static_cast<int>(run->digest.size())) != 1) {
        ERR_clear_error();
        run->signFailure = std::make_exception_ptr(Error(ErrorCode::Internal, "no random bytes for the test digest"));
        finish(run);
        return;
    }
    SignRequest request;
    request.digest = run->digest;
    request.digestAlgorithm = DigestAlgorithm::Sha256;
    request.pin = std::move(run->pin);
    run->pin.reset();
    run->steps.sign(std::move(request), [run](Outcome<SignResult> outcome) {
        if (const auto* result = valueOf(outcome)) run->signature = *result;
        else run->signFailure = failureOf(outcome);
        finish(run);
    });
}

void askCard(const std::shared_ptr<Run>& run)
{
    run->steps.pinStatus([run](Outcome<PinStatus> outcome) {
        if (const auto* status = valueOf(outcome)) run->pinStatus = *status;
        else run->pinStatusFailure = failureOf(outcome);
        signTestDigest(run);
    });
}

SelfTestCheck readerCheck(const Run& run)
{
    if (!run.status) return fail("reader", "the reader list is unavailable: " + describe(run.statusFailure));
    if (!run.status->pcscAvailable) return fail("reader", "the PC/SC service (pcscd) does not answer");
    for (const auto& reader : run.status->readers) {
        if (reader.name != run.card.reader) continue;
        if (reader.cardPresent && reader.cardId == run.cardId) {
            return pass("reader", "reader '" + reader.name + "' answers and holds the card");
        }
        return fail("reader", "reader '" + reader.name + "' no longer holds the card");
    }
    return fail("reader", "reader '" + run.card.reader + "' is gone");
}

std::vector<SelfTestCheck> cardChecks(const Run& run)
{
    std::vector<SelfTestCheck> checks;
    if (!run.pinStatus) {
        checks.push_back(fail("card", "the card did not answer: " + describe(run.pinStatusFailure)));
        checks.push_back(skip("pin", "the card did not answer"));
        return checks;
    }
    checks.push_back(pass("card", "the card answered SELECT and the PIN status query (no try spent)"));
    const PinStatus& pin = *run.pinStatus;
    if (pin.blocked) {
        checks.push_back(fail("pin", "the PIN is blocked: the card cannot sign until it is unblocked"));
    } else {
        checks.push_back(pass("pin", std::to_string(pin.triesLeft) + " of " + std::to_string(pin.maxTries) + " tries left"));
    }
    return checks;
}

SelfTestCheck keyCheck(const Run& run)
{
    if (!run.pinGiven) return skip("key", "no PIN given: the key is tested only with a PIN (a test signature)");
    if (!run.pinStatus) return skip("key", "the card did not answer");
    if (run.pinStatus->blocked) return fail("key", "the PIN is blocked: no test signature possible");
    if (!run.signature) return fail("key", "the test signature failed: " + describe(run.signFailure));
    std::string why;
    if (!signatureMatchesCertificate(run.signature->certificate, run.digest, run.signature->signature, why)) {
        return fail("key", "the card's signature does not verify with certificate '" + run.signature->certificateId
                               + "': " + why);
    }
    return pass("key", "a test signature over a random SHA-256 digest verifies with certificate '"
                           + run.signature->certificateId + "' (" + run.signature->signatureAlgorithm + ")");
}

std::string revocationSource(const cert::RevocationResult& r)
{
    std::string words = r.source == cert::RevocationMethod::Crl ? "CRL" : "OCSP";
    if (!r.url.empty()) words += " " + r.url;
    if (r.fromCache) words += " (cached)";
    return words;
}

void appendValidityChecks(std::vector<SelfTestCheck>& checks, CertificateChecker& checker,
                          const CertificateSummary* leaf, const CardSummary& card, bool leafParsed)
{
    if (!leaf || !leafParsed) {
        checks.push_back(skip("chain", "no readable certificate of the card to check"));
        checks.push_back(skip("revocation", "no readable certificate of the card to check"));
        return;
    }
    std::vector<Bytes> others;
    for (const auto& certificate : card.certificates) others.push_back(certificate.der);
    CertificateValidation v;
    try {
        v = checker.validateNow(leaf->der, others, std::nullopt);
    } catch (...) {
        checks.push_back(fail("chain", "the check could not be made: " + describe(std::current_exception())));
        checks.push_back(skip("revocation", "needs a valid chain (the issuer is asked about the certificate)"));
        return;
    }

    const std::string which = "certificate '" + leaf->id + "'";
    bool chainValid = false;
    if (v.trustAnchorCount == 0) {
        checks.push_back(skip("chain", v.trustAnchorsProblem + ": add the issuing authority's root certificate there"));
    } else if (v.chain.valid) {
        chainValid = true;
        checks.push_back(pass("chain", which + " chains to the trust anchor " + v.chain.chain.back().subject + " ("
                                           + std::to_string(v.chain.chain.size()) + " certificates)"));
    } else {
        std::string detail = which + ": " + std::string(cert::chainFailureName(v.chain.reason));
        if (!v.chain.detail.empty()) detail += " (" + v.chain.detail + ")";
        checks.push_back(fail("chain", detail));
    }

    if (!checker.revocationEnabled()) {
        checks.push_back(skip("revocation", "revocation checking is turned off in the configuration"));
    } else if (!chainValid || !v.revocation) {
        checks.push_back(skip("revocation", "needs a valid chain (the issuer is asked about the certificate)"));
    } else {
        const auto& r = *v.revocation;
        switch (r.status) {
        case cert::RevocationStatus::Good:
            checks.push_back(pass("revocation", "not revoked, per " + revocationSource(r)));
            break;
        case cert::RevocationStatus::Revoked:
        case cert::RevocationStatus::Suspended:
            checks.push_back(fail("revocation", std::string(r.status == cert::RevocationStatus::Revoked ? "revoked" : "suspended (休止)")
                                                    + (r.revocationTime ? " since " + *r.revocationTime : std::string())
                                                    + (r.reason ? " (" + *r.reason + ")" : std::string()) + ", per "
                                                    + revocationSource(r)));
            break;
        case cert::RevocationStatus::Unknown:
            // No evidence is not good evidence.
            checks.push_back(fail("revocation", "unknown: " + std::string(cert::unknownCauseName(r.cause))
                                                    + (r.detail.empty() ? std::string() : " (" + r.detail + ")")));
            break;
        }
    }
}

/// The rest runs on the checker's pool: parsing, verification and the network.
void finish(const std::shared_ptr<Run>& run)
{
    run->checker.run<SelfTestReport>(
        [run] {
            SelfTestReport report;
            report.cardId = run->cardId;
            report.checks.push_back(readerCheck(*run));
            for (auto& check : cardChecks(*run)) report.checks.push_back(std::move(check));

            std::vector<std::optional<cert::CertificateInfo>> parsed;
            for (const auto& certificate : run->card.certificates) {
                const std::string name = "certificate:" + certificate.id;
                try {
                    auto info = cert::parseCertificate(certificate.der);
                    report.checks.push_back(pass(name, "read from the card at insertion (" + std::to_string(certificate.der.size())
                                                           + " bytes) and parsed: " + info.subject + ", valid until "
                                                           + info.notAfter));
                    parsed.emplace_back(std::move(info));
                } catch (const std::exception& e) {
                    report.checks.push_back(fail(name, std::string("read from the card at insertion, but not a certificate: ") + e.what()));
                    parsed.emplace_back(std::nullopt);
                }
            }
            if (run->card.certificates.empty()) report.checks.push_back(fail("certificate", "the card holds no certificate"));

            report.checks.push_back(keyCheck(*run));

            const CertificateSummary* leaf = ownCertificate(run->card);
            const bool leafParsed = leaf && parsed[static_cast<std::size_t>(leaf - run->card.certificates.data())].has_value();
            appendValidityChecks(report.checks, run->checker, leaf, run->card, leafParsed);

            report.passed = std::none_of(report.checks.begin(), report.checks.end(),
                                         [](const SelfTestCheck& c) { return c.result == CheckResult::Fail; });
            return report;
        },
        std::move(run->done));
}

}  // namespace

std::string_view checkResultName(CheckResult result)
{
    switch (result) {
    case CheckResult::Pass: return "pass";
    case CheckResult::Fail: return "fail";
    case CheckResult::Skipped: return "skipped";
    }
    return "fail";
}

bool signatureMatchesCertificate(const Bytes& certificateDer, const Bytes& digest, const Bytes& signature,
                                 std::string& why)
{
    ossl::X509Ptr certificate;
    try {
        certificate = cert::decodeDer(certificateDer);
    } catch (const std::exception&) {
        why = "the certificate cannot be parsed";
        return false;
    }
    EVP_PKEY* key = X509_get0_pubkey(certificate.get());
    const EvpPkeyCtxPtr context(key ? EVP_PKEY_CTX_new(key, nullptr) : nullptr);
    // RSA keys verify PKCS#1 v1.5 over the DigestInfo of this digest (RFC 8017
    // §8.2.2), EC keys ECDSA over the digest itself: both by the digest's type.
    const bool ready = context && EVP_PKEY_verify_init(context.get()) == 1
        && EVP_PKEY_CTX_set_signature_md(context.get(), EVP_sha256()) == 1;
    if (!ready) {
        ERR_clear_error();
        why = "the certificate's public key cannot verify signatures";
        return false;
    }
    const int verified = EVP_PKEY_verify(context.get(), signature.data(), signature.size(), digest.data(), digest.size());
    ERR_clear_error();
    if (verified != 1) {
        why = "the key on the card is not the certificate's key";
        return false;
    }
    return true;
}

void runSelfTest(SelfTestCardSteps steps, CertificateChecker& checker, std::string cardId, std::optional<Secret> pin,
                 Completion<SelfTestReport> done)
{
    auto run = std::make_shared<Run>(std::move(steps), checker, std::move(cardId), std::move(pin), std::move(done));
    // First the registry: an absent card is the caller's error, not a failed check.
    run->steps.card([run](Outcome<CardSummary> outcome) {
        if (const auto failure = failureOf(outcome)) {
            auto finished = std::move(run->done);
            finished(Outcome<SelfTestReport>(std::in_place_index<1>, failure));
            return;
        }
        run->card = std::get<CardSummary>(std::move(outcome));
        run->steps.status([run](Outcome<AgentStatus> status) {
            if (const auto* value = valueOf(status)) run->status = *value;
            else run->statusFailure = failureOf(status);
            askCard(run);
        });
    });
}

}  // namespace inkan::service
