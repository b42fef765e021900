// inkan — the card access with its 使用簿: every operation that spends a PIN
// try or signs goes through here, which records its intent (durable) before
// handing it to security::CardAccess, and its outcome (durable) before the
// answer goes back. When the ledger cannot be written the operation is
// refused with AUDIT_UNAVAILABLE and nothing reaches the card.
//
// Knows no HTTP and no APDU; records are built from typed fields (the card's
// registry entry, the digest, the outcome), never from request bodies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/audit/ledger.hpp"
#include "daemon/secret.hpp"
#include "daemon/security/card_access.hpp"

namespace inkan::audit {

/// What a request says about itself, for its records.
struct RequestInfo {
    std::string requestId;
    /// The local client's OS user and program, when the server knows them (see Who).
    std::string osUser;
    std::string program;
    /// For a document signature: what is signed, one line (daemon/formats/document.hpp);
    /// the sign record's `target`.
    std::string document{};
};

class AuditedCardAccess {
public:
    /// Both must outlive this object and every operation started through it.
    AuditedCardAccess(security::CardAccess& access, Ledger& ledger);

    void verifyPin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                   std::optional<Secret> pin, security::PinRequestOptions options, Completion<PinStatus> done);
    void changePin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                   std::optional<Secret> pin, std::optional<Secret> newPin, security::PinRequestOptions options,
                   Completion<PinStatus> done);
    void unblockPin(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                    std::optional<Secret> unblockCode, std::optional<Secret> newPin, security::PinRequestOptions options,
                    Completion<PinStatus> done);
    void sign(const security::Principal& principal, const RequestInfo& info, const std::string& cardId, SignRequest request,
              security::PinRequestOptions options, Completion<SignResult> done);

    /// Any other operation on a card (the self-test): `run` is called once the
    /// intent is durable, and its `finish` with the outcome ("ok" or a problem
    /// code) makes the done record durable (it throws AUDIT_UNAVAILABLE when it
    /// cannot). When the intent cannot be written, `refused` gets the error
    /// and `run` is not called.
    using Finish = std::function<void(const std::string& outcome)>;
    void around(const security::Principal& principal, const RequestInfo& info, const std::string& cardId,
                std::string operation, std::function<void(Finish finish)> run,
                std::function<void(std::exception_ptr)> refused);

    /// Who a principal is, for a record.
    Who whoOf(const security::Principal& principal, const RequestInfo& info) const;

    Ledger& ledger() noexcept { return ledger_; }
    security::CardAccess& access() noexcept { return access_; }

private:
    /// Looks the card up (registry, no APDU), then calls `next` with the entry's credential.
    void withCredential(const security::Principal& principal, const std::string& cardId,
                        const std::optional<std::string>& certificateId, std::function<void(Credential)> next);

    /// One audited card operation: the entry's credential is filled in, its
    /// intent made durable, then `act` runs with a completion that makes the
    /// done record durable (with what `describe` reads from the result)
    /// before `done` hears the outcome. An intent that cannot be written is
    /// `done`'s failure, and `act` never runs.
    template <class T>
    void audited(const security::Principal& principal, const std::string& cardId,
                 const std::optional<std::string>& certificateId, Entry entry, std::function<void(Completion<T>)> act,
                 std::function<void(Result&, const T&, const Credential&)> describe, Completion<T> done);

    security::CardAccess& access_;
    Ledger& ledger_;
};

/// The result of an outcome: "ok", or the problem code and the tries left it carries.
Result resultOf(const std::exception_ptr& failure);

/// The credential fields of `card` (and of its certificate `certificateId`, or
/// of its only certificate when there is one).
Credential credentialOf(const CardSummary& card, const std::optional<std::string>& certificateId);

/// A fresh request id: 16 random bytes, hex.
std::string newRequestId();

}  // namespace inkan::audit
