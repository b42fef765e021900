// inkan — the domain error every layer throws and the API translates.
//
// One enum of stable codes (the problem+json `code` values of openapi.yaml).
// Lower layers translate what they see into it exactly once:
//   * daemon/pcsc/scard_call.*   SCard return codes  -> inkan::Error
//   * daemon/card/status_words.* ISO 7816 status words -> inkan::Error / PinStatus
//   * api/problem.*              inkan::Error -> HTTP status + problem+json
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace inkan {

enum class ErrorCode {
    BadRequest,            // malformed input (JSON, base64, lengths)
    Unauthorized,          // missing or wrong local token; own origin without a console session; bad login code
    HostForbidden,         // Host header is not a loopback name with our port
    OriginForbidden,       // browser origin not allowed
    NotFound,              // no such route / certificate
    MethodNotAllowed,      // route exists, method does not
    PayloadTooLarge,       // body over the limit
    UnsupportedMediaType,  // non-JSON body
    CardNotFound,          // no present card with that id
    CardRemoved,           // the card went away during the operation
    ReaderUnavailable,     // the reader vanished or cannot be used
    PcscUnavailable,       // no PC/SC service (pcscd down)
    PinIncorrect,          // wrong PIN; triesLeft set
    PinBlocked,            // the PIN is blocked (no tries left)
    PinGuard,              // refused to spend a try (issue: PIN guard)
    PinFormat,             // PIN syntactically invalid for this card; nothing sent
    PinRequired,           // the operation needs a PIN and none was given
    UnblockCodeIncorrect,  // wrong unblock code; triesLeft set
    UnblockCodeBlocked,    // the unblock code is blocked too: the card must be reissued
    UnsupportedAlgorithm,  // digest algorithm / key type not supported
    UnsupportedOperation,  // the card cannot do this (e.g. unblock a PIN that has no unblock code); nothing sent
    CredentialInvalid,     // a PKCS#12 file inkan cannot use (corrupt, no key, several keys, a certificate not the key's)
    CardError,             // unexpected status word; sw set
    TokenModuleFailed,     // a PKCS#11 module crashed or hung (its helper process was stopped and restarts)
    Busy,                  // the card is used by another application
    Internal,              // a bug or an unexpected failure
    // Origin policy, pairing and PIN protection (docs/security.md).
    OperationForbidden,    // the caller's origin may not do this operation or use this card
    CardBlockedByPolicy,   // the card's certificate is listed as lost/suspended in the config
    PinRateLimited,        // too many wrong PINs from this origin lately; retryAfterSeconds set
    PinCancelled,          // the user cancelled the PIN entry (inkand's dialog or the reader's PIN pad)
    PinEntryTimeout,       // nobody entered the PIN (dialog or PIN pad) in time
    PinEntryUnavailable,   // inkand's PIN dialog (pinentry) could not be shown
    PinSourceMismatch,     // a PIN was sent although this origin's PIN is entered outside the page
    PinpadUnavailable,     // the origin's PIN is entered on a pinpad the reader does not have
    PairingRateLimited,    // too many pairing requests from this origin; retryAfterSeconds set
    PairingCodeIncorrect,  // the approval's code does not match the pairing; triesLeft set
    PairingNotPending,     // the pairing was already approved, denied or has expired
    AlreadyPaired,         // the origin is allowlisted or paired already
    // The 使用簿 (docs/audit.md).
    AuditUnavailable,      // the ledger cannot be written (disk full, read-only, permissions): nothing reached the card
    // Document signatures (docs/formats.md).
    UnsupportedFormat,     // a document format inkand does not sign (POST .../signatures "format")
    DocumentInvalid,       // the document cannot be signed as given (malformed, encrypted, DOCTYPE): nothing reached the card
};

/// The stable upper-snake name of a code, e.g. "PIN_INCORRECT".
std::string_view errorCodeName(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}

    ErrorCode code() const noexcept { return code_; }

    /// Remaining PIN / unblock-code tries, for PinIncorrect, PinGuard, UnblockCodeIncorrect.
    std::optional<int> triesLeft;
    /// The card's status word, for CardError.
    std::optional<std::uint16_t> statusWord;
    /// Seconds until a rate-limited request may be retried (PinRateLimited, PairingRateLimited).
    std::optional<int> retryAfterSeconds;

    Error& withTriesLeft(int n) { triesLeft = n; return *this; }
    Error& withStatusWord(std::uint16_t sw) { statusWord = sw; return *this; }
    Error& withRetryAfter(int seconds) { retryAfterSeconds = seconds; return *this; }

private:
    ErrorCode code_;
};

}  // namespace inkan
