#include "daemon/audit/audited_access.hpp"

#include <array>
#include <exception>
#include <utility>
#include <variant>

#include <openssl/rand.h>

#include "daemon/card/digest_info.hpp"
#include "daemon/cert/certificate.hpp"
#include "daemon/error.hpp"
#include "daemon/hex.hpp"

namespace inkan::audit {

namespace {

constexpr std::size_t kRequestIdBytes = 16;
std::string hexOf(const Bytes& bytes) { return hexEncode(bytes); }

/// 商号 and 会社法人等番号 of a certificate that carries them.
void addRegistryNames(Credential& credential, const CertificateSummary& certificate)
{
    try {
        const cert::CertificateInfo info = cert::parseCertificate(certificate.der);
        if (const auto& corporation = info.registry.corporation) {
            credential.corporateName = corporation->corporateName.value_or("");
            credential.corporateNumber = corporation->registeredNumber.value_or("");
        }
    } catch (const std::exception&) {
        // A certificate inkand cannot parse names no company; the serial still identifies it.
    }
}

/// A PIN operation: intent, the operation, done; answers only after the done is durable.
template <class T>
Completion<T> finishing(Ledger& ledger, std::uint64_t intent, Entry entry, Completion<T> done,
                        std::function<void(Result&, const T&)> describe)
{
    return [&ledger, intent, entry = std::move(entry), done = std::move(done), describe = std::move(describe)](Outcome<T> outcome) mutable {
        Result result;
        if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
            result = resultOf(*failure);
        } else if (describe) {
            describe(result, std::get<T>(outcome));
        }
        try {
            ledger.finish(intent, entry, result);
        } catch (...) {
            // Without its record, nothing the card produced leaves inkand.
            done(std::current_exception());
            return;
        }
        done(std::move(outcome));
    };
}

}  // namespace

std::string newRequestId()
{
    Bytes bytes(kRequestIdBytes);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw Error(ErrorCode::Internal, "no random bytes for a request id");
    return hexOf(bytes);
}

Result resultOf(const std::exception_ptr& failure)
{
    Result result;
    try {
        std::rethrow_exception(failure);
    } catch (const Error& error) {
        result.outcome = std::string(errorCodeName(error.code()));
        result.triesLeft = error.triesLeft;
    } catch (...) {
        result.outcome = std::string(errorCodeName(ErrorCode::Internal));
    }
    return result;
}

Credential credentialOf(const CardSummary& card, const std::optional<std::string>& certificateId)
{
    Credential credential;
    credential.cardId = card.id;
    // A file credential is listed in reader "file", a PKCS#11 token with profile
    // "pkcs11" (docs/credentials.md); the rest are cards spoken to by APDU.
    credential.kind = card.reader == "file" ? "file" : card.profile == "pkcs11" ? "token" : "card";
    credential.profile = card.profile;
    credential.label = card.label;
    const CertificateSummary* chosen = nullptr;
    for (const auto& certificate : card.certificates) {
        if (certificateId ? certificate.id == *certificateId : card.certificates.size() == 1) chosen = &certificate;
    }
    if (chosen) {
        credential.certificateId = chosen->id;
        credential.certificateSerial = chosen->serialNumber;
        addRegistryNames(credential, *chosen);
    } else {
        // No one certificate yet: the company the card belongs to, from any that names it.
        for (const auto& certificate : card.certificates) {
            addRegistryNames(credential, certificate);
            if (!credential.corporateName.empty()) break;
        }
    }
    return credential;
}

AuditedCardAccess::AuditedCardAccess(security::CardAccess& access, Ledger& ledger) : access_(access), ledger_(ledger) {}

Who AuditedCardAccess::whoOf(const security::Principal& principal, const RequestInfo& info) const
{
    Who who;
    switch (principal.kind) {
    case security::Principal::Kind::LocalClient:
        who.kind = Who::Kind::Local;
        who.osUser = info.osUser;
        who.program = info.program;
        break;
    case security::Principal::Kind::Console:
        who.kind = Who::Kind::Console;
        who.origin = principal.origin;
        who.session = principal.session;
        break;
    case security::Principal::Kind::WebOrigin:
        who.kind = Who::Kind::Origin;
        who.origin = principal.origin;
        who.standing = std::string(security::standingName(access_.describe(principal).standing));
        break;
    }
    return who;
}

void AuditedCardAccess::withCredential(const security::Principal& principal, const std::string& cardId,
                                       const std::optional<std::string>& certificateId, std::function<void(Credential)> next)
{
    access_.card(principal, cardId, [cardId, certificateId, next = std::move(next)](Outcome<CardSummary> outcome) {
        if (const auto* card = std::get_if<CardSummary>(&outcome)) {
            next(credentialOf(*card, certificateId));
            return;
        }
        // Unknown, or not visible to this principal: the attempt is recorded all the same.
        Credential credential;
        credential.cardId = cardId;
        next(std::move(credential));
    });
}

void AuditedCardAccess::around(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                               std::string operation, std::function<void(Finish finish)> run,
                               std::function<void(std::exception_ptr)> refused)
{
    Entry entry;
    entry.operation = std::move(operation);
    entry.who = whoOf(principal, info);
    entry.requestId = info.requestId;
    withCredential(principal, cardId, std::nullopt,
                   [this, entry = std::move(entry), run = std::move(run), refused = std::move(refused)](Credential credential) mutable {
                       entry.credential = std::move(credential);
                       std::uint64_t intent = 0;
                       try {
                           intent = ledger_.begin(entry);
                       } catch (...) {
                           refused(std::current_exception());
                           return;
                       }
                       run([this, intent, entry](const std::string& outcome) {
                           Result result;
                           result.outcome = outcome;
                           ledger_.finish(intent, entry, result);
                       });
                   });
}

template <class T>
void AuditedCardAccess::audited(const security::Principal& principal, const std::string& cardId,
                                const std::optional<std::string>& certificateId, Entry entry,
                                std::function<void(Completion<T>)> act,
                                std::function<void(Result&, const T&, const Credential&)> describe, Completion<T> done)
{
    withCredential(principal, cardId, certificateId,
                   [this, entry = std::move(entry), act = std::move(act), describe = std::move(describe),
                    done = std::move(done)](Credential credential) mutable {
                       entry.credential = credential;
                       std::uint64_t intent = 0;
                       try {
                           intent = ledger_.begin(entry);
                       } catch (...) {
                           done(std::current_exception());
                           return;
                       }
                       act(finishing<T>(ledger_, intent, std::move(entry), std::move(done),
                                        [credential = std::move(credential), describe = std::move(describe)](
                                            Result& result, const T& value) { describe(result, value, credential); }));
                   });
}

namespace {

// What a PIN operation's answer adds to its done record.
void describePinStatus(Result& result, const PinStatus& status, const Credential&) { result.triesLeft = status.triesLeft; }

// What a signature adds: the certificate the card signed with, and the company it names.
void describeSignature(Result& result, const SignResult& signature, const Credential& credential)
{
    Credential used = credential;
    used.certificateId = signature.certificateId;
    CertificateSummary certificate;
    certificate.der = signature.certificate;
    used.corporateName.clear();
    used.corporateNumber.clear();
    addRegistryNames(used, certificate);
    try {
        used.certificateSerial = cert::parseCertificate(signature.certificate).serialNumber;
    } catch (const std::exception&) {
        used.certificateSerial.clear();
    }
    result.credential = std::move(used);
}

}  // namespace

void AuditedCardAccess::verifyPin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                                  std::optional<Secret> pin, security::PinRequestOptions options, Completion<PinStatus> done)
{
    auto pinShared = std::make_shared<std::optional<Secret>>(std::move(pin));
    audited<PinStatus>(
        principal, cardId, std::nullopt, Entry{"pin.verify", whoOf(principal, info), info.requestId, {}, {}, {}, {}},
        [this, principal, cardId, pinShared, options](Completion<PinStatus> finish) {
            access_.verifyPin(principal, cardId, std::move(*pinShared), options, std::move(finish));
        },
        describePinStatus, std::move(done));
}

void AuditedCardAccess::changePin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                                  std::optional<Secret> pin, std::optional<Secret> newPin, security::PinRequestOptions options,
                                  Completion<PinStatus> done)
{
    auto pins = std::make_shared<std::pair<std::optional<Secret>, std::optional<Secret>>>(std::move(pin), std::move(newPin));
    audited<PinStatus>(
        principal, cardId, std::nullopt, Entry{"pin.change", whoOf(principal, info), info.requestId, {}, {}, {}, {}},
        [this, principal, cardId, pins, options](Completion<PinStatus> finish) {
            access_.changePin(principal, cardId, std::move(pins->first), std::move(pins->second), options, std::move(finish));
        },
        describePinStatus, std::move(done));
}

void AuditedCardAccess::unblockPin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                                   std::optional<Secret> unblockCode, std::optional<Secret> newPin,
                                   security::PinRequestOptions options, Completion<PinStatus> done)
{
    auto codes = std::make_shared<std::pair<std::optional<Secret>, std::optional<Secret>>>(std::move(unblockCode), std::move(newPin));
    audited<PinStatus>(
        principal, cardId, std::nullopt, Entry{"pin.unblock", whoOf(principal, info), info.requestId, {}, {}, {}, {}},
        [this, principal, cardId, codes, options](Completion<PinStatus> finish) {
            access_.unblockPin(principal, cardId, std::move(codes->first), std::move(codes->second), options,
                               std::move(finish));
        },
        describePinStatus, std::move(done));
}

void AuditedCardAccess::sign(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                             SignRequest request, security::PinRequestOptions options, Completion<SignResult> done)
{
    Entry entry{"sign", whoOf(principal, info), info.requestId, {}, std::string(card::digestAlgorithmName(request.digestAlgorithm)),
                hexOf(request.digest), info.document};
    const std::optional<std::string> certificateId = request.certificateId;
    auto shared = std::make_shared<SignRequest>(std::move(request));
    audited<SignResult>(
        principal, cardId, certificateId, std::move(entry),
        [this, principal, cardId, shared, options](Completion<SignResult> finish) {
            access_.sign(principal, cardId, std::move(*shared), options, std::move(finish));
        },
        describeSignature, std::move(done));
}

}  // namespace inkan::audit
