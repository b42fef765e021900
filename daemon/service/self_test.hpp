// inkan — the card self-test (動作確認): does the reader answer, does the card,
// are its certificates readable, does its key match its certificate (with a
// PIN), does the chain hold and is the certificate not revoked.
//
// Card steps are the card operations the caller may do anyway (the API binds
// them to its policy-checked card access): they run on the card's worker one
// at a time with every other operation, and a PIN passes the same checks as
// for any signature. Parsing, signature verification, chain building and
// revocation (network) run on the CertificateChecker's pool.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/secret.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/certificate_checker.hpp"

namespace inkan::service {

enum class CheckResult { Pass, Fail, Skipped };

/// "pass", "fail", "skipped".
std::string_view checkResultName(CheckResult result);

struct SelfTestCheck {
    /// "reader", "card", "pin", "certificate:<id>", "key", "chain", "revocation".
    std::string name;
    CheckResult result = CheckResult::Skipped;
    std::string detail;  // why, in words
};

struct SelfTestReport {
    std::string cardId;
    bool passed = false;  // no check failed
    std::vector<SelfTestCheck> checks;
};

/// The card operations a self-test uses, bound to one card and one caller.
struct SelfTestCardSteps {
    std::function<void(Completion<CardSummary>)> card;               // the registry: reader, certificates
    std::function<void(Completion<AgentStatus>)> status;             // the readers
    std::function<void(Completion<PinStatus>)> pinStatus;            // SELECT and the try counter, no try spent
    std::function<void(SignRequest, Completion<SignResult>)> sign;   // only with a PIN
};

/// Runs the self-test of the card `cardId`. Without `pin` the key check is
/// skipped and no PIN try is ever at stake; with one, a random SHA-256 digest
/// is signed on the card and the signature verified with the certificate's
/// public key (a wrong PIN fails that check and costs the try it costs any
/// signature). Completes with the report, also when checks fail; with an
/// exception only when the card cannot be found (CardNotFound,
/// PcscUnavailable) or the checker refuses work (Busy).
void runSelfTest(SelfTestCardSteps steps, CertificateChecker& checker, std::string cardId, std::optional<Secret> pin,
                 Completion<SelfTestReport> done);

/// Whether `signature` over `digest` (SHA-256) verifies with the public key of
/// `certificateDer`; false with the reason in `why` otherwise.
bool signatureMatchesCertificate(const Bytes& certificateDer, const Bytes& digest, const Bytes& signature,
                                 std::string& why);

}  // namespace inkan::service
