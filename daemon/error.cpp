#include "error.hpp"

namespace inkan {

std::string_view errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest: return "BAD_REQUEST";
    case ErrorCode::Unauthorized: return "UNAUTHORIZED";
    case ErrorCode::HostForbidden: return "HOST_FORBIDDEN";
    case ErrorCode::OriginForbidden: return "ORIGIN_FORBIDDEN";
    case ErrorCode::NotFound: return "NOT_FOUND";
    case ErrorCode::MethodNotAllowed: return "METHOD_NOT_ALLOWED";
    case ErrorCode::PayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case ErrorCode::UnsupportedMediaType: return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::CardNotFound: return "CARD_NOT_FOUND";
    case ErrorCode::CardRemoved: return "CARD_REMOVED";
    case ErrorCode::ReaderUnavailable: return "READER_UNAVAILABLE";
    case ErrorCode::PcscUnavailable: return "PCSC_UNAVAILABLE";
    case ErrorCode::PinIncorrect: return "PIN_INCORRECT";
    case ErrorCode::PinBlocked: return "PIN_BLOCKED";
    case ErrorCode::PinGuard: return "PIN_GUARD";
    case ErrorCode::PinFormat: return "PIN_FORMAT";
    case ErrorCode::PinRequired: return "PIN_REQUIRED";
    case ErrorCode::UnblockCodeIncorrect: return "UNBLOCK_CODE_INCORRECT";
    case ErrorCode::UnblockCodeBlocked: return "UNBLOCK_CODE_BLOCKED";
    case ErrorCode::UnsupportedAlgorithm: return "UNSUPPORTED_ALGORITHM";
    case ErrorCode::UnsupportedOperation: return "UNSUPPORTED_OPERATION";
    case ErrorCode::CredentialInvalid: return "CREDENTIAL_INVALID";
    case ErrorCode::CardError: return "CARD_ERROR";
    case ErrorCode::TokenModuleFailed: return "TOKEN_MODULE_FAILED";
    case ErrorCode::Busy: return "BUSY";
    case ErrorCode::Internal: return "INTERNAL";
    case ErrorCode::OperationForbidden: return "OPERATION_FORBIDDEN";
    case ErrorCode::CardBlockedByPolicy: return "CARD_BLOCKED_BY_POLICY";
    case ErrorCode::PinRateLimited: return "PIN_RATE_LIMITED";
    case ErrorCode::PinCancelled: return "PIN_CANCELLED";
    case ErrorCode::PinEntryTimeout: return "PIN_ENTRY_TIMEOUT";
    case ErrorCode::PinEntryUnavailable: return "PIN_ENTRY_UNAVAILABLE";
    case ErrorCode::PinSourceMismatch: return "PIN_SOURCE_MISMATCH";
    case ErrorCode::PinpadUnavailable: return "PINPAD_UNAVAILABLE";
    case ErrorCode::PairingRateLimited: return "PAIRING_RATE_LIMITED";
    case ErrorCode::PairingCodeIncorrect: return "PAIRING_CODE_INCORRECT";
    case ErrorCode::PairingNotPending: return "PAIRING_NOT_PENDING";
    case ErrorCode::AlreadyPaired: return "ALREADY_PAIRED";
    case ErrorCode::AuditUnavailable: return "AUDIT_UNAVAILABLE";
    case ErrorCode::UnsupportedFormat: return "UNSUPPORTED_FORMAT";
    case ErrorCode::DocumentInvalid: return "DOCUMENT_INVALID";
    }
    return "INTERNAL";
}

}  // namespace inkan
