#include "api/problem.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "api/log.hpp"

namespace inkan::api {

namespace {

// RFC 9110 §15 status codes, plus 423 Locked from RFC 4918 §11.3 (a blocked PIN
// is a locked resource the caller cannot unlock by retrying).
constexpr int kBadRequest = 400;
constexpr int kUnauthorized = 401;
constexpr int kForbidden = 403;
constexpr int kNotFound = 404;
constexpr int kMethodNotAllowed = 405;
constexpr int kConflict = 409;
constexpr int kContentTooLarge = 413;
constexpr int kUnsupportedMediaType = 415;
constexpr int kUnprocessableContent = 422;  // RFC 9110 §15.5.21: well-formed request, unusable document
constexpr int kLocked = 423;
constexpr int kTooManyRequests = 429;  // RFC 6585 §4, with Retry-After
constexpr int kInternalServerError = 500;
constexpr int kBadGateway = 502;  // the card (our upstream) answered something unexpected
constexpr int kServiceUnavailable = 503;

constexpr std::string_view kTypePrefix = "urn:inkan:problem:";
constexpr std::string_view kGenericInternalDetail = "An unexpected error occurred in inkand; see its log.";

}  // namespace

int httpStatus(ErrorCode code) noexcept
{
    switch (code) {
    case ErrorCode::BadRequest: return kBadRequest;
    case ErrorCode::PinFormat: return kBadRequest;
    case ErrorCode::UnsupportedAlgorithm: return kBadRequest;
    case ErrorCode::Unauthorized: return kUnauthorized;
    case ErrorCode::HostForbidden: return kForbidden;
    case ErrorCode::OriginForbidden: return kForbidden;
    case ErrorCode::PinIncorrect: return kForbidden;
    case ErrorCode::PinRequired: return kForbidden;
    case ErrorCode::UnblockCodeIncorrect: return kForbidden;
    case ErrorCode::NotFound: return kNotFound;
    case ErrorCode::CardNotFound: return kNotFound;
    case ErrorCode::MethodNotAllowed: return kMethodNotAllowed;
    case ErrorCode::CardRemoved: return kConflict;
    case ErrorCode::PinGuard: return kConflict;
    case ErrorCode::UnsupportedOperation: return kConflict;
    case ErrorCode::CredentialInvalid: return kBadRequest;
    case ErrorCode::PayloadTooLarge: return kContentTooLarge;
    case ErrorCode::UnsupportedMediaType: return kUnsupportedMediaType;
    case ErrorCode::PinBlocked: return kLocked;
    case ErrorCode::UnblockCodeBlocked: return kLocked;
    case ErrorCode::Internal: return kInternalServerError;
    case ErrorCode::CardError: return kBadGateway;
    case ErrorCode::TokenModuleFailed: return kBadGateway;
    case ErrorCode::Busy: return kServiceUnavailable;
    case ErrorCode::PcscUnavailable: return kServiceUnavailable;
    case ErrorCode::ReaderUnavailable: return kServiceUnavailable;
    case ErrorCode::OperationForbidden: return kForbidden;
    case ErrorCode::CardBlockedByPolicy: return kForbidden;
    case ErrorCode::PinRateLimited: return kTooManyRequests;
    case ErrorCode::PinCancelled: return kConflict;
    case ErrorCode::PinEntryTimeout: return kConflict;
    case ErrorCode::PinEntryUnavailable: return kServiceUnavailable;
    case ErrorCode::PinSourceMismatch: return kBadRequest;
    case ErrorCode::PinpadUnavailable: return kServiceUnavailable;
    case ErrorCode::PairingRateLimited: return kTooManyRequests;
    case ErrorCode::PairingCodeIncorrect: return kForbidden;
    case ErrorCode::PairingNotPending: return kConflict;
    case ErrorCode::AlreadyPaired: return kConflict;
    case ErrorCode::AuditUnavailable: return kServiceUnavailable;
    case ErrorCode::UnsupportedFormat: return kBadRequest;
    case ErrorCode::DocumentInvalid: return kUnprocessableContent;
    }
    return kInternalServerError;
}

std::string_view problemTitle(ErrorCode code) noexcept
{
    switch (code) {
    case ErrorCode::BadRequest: return "Bad request";
    case ErrorCode::Unauthorized: return "Missing or wrong credentials (API token or console session)";
    case ErrorCode::HostForbidden: return "Host not allowed";
    case ErrorCode::OriginForbidden: return "Origin not allowed";
    case ErrorCode::NotFound: return "Not found";
    case ErrorCode::MethodNotAllowed: return "Method not allowed";
    case ErrorCode::PayloadTooLarge: return "Request body too large";
    case ErrorCode::UnsupportedMediaType: return "Request body must be JSON";
    case ErrorCode::CardNotFound: return "Card not found";
    case ErrorCode::CardRemoved: return "Card removed";
    case ErrorCode::ReaderUnavailable: return "Reader unavailable";
    case ErrorCode::PcscUnavailable: return "Smart-card service unavailable";
    case ErrorCode::PinIncorrect: return "PIN incorrect";
    case ErrorCode::PinBlocked: return "PIN blocked";
    case ErrorCode::PinGuard: return "PIN attempt refused";
    case ErrorCode::PinFormat: return "PIN format invalid";
    case ErrorCode::PinRequired: return "PIN required";
    case ErrorCode::UnblockCodeIncorrect: return "Unblock code incorrect";
    case ErrorCode::UnblockCodeBlocked: return "Unblock code blocked";
    case ErrorCode::UnsupportedAlgorithm: return "Unsupported algorithm";
    case ErrorCode::UnsupportedOperation: return "The card cannot do this";
    case ErrorCode::CredentialInvalid: return "Credential file not usable";
    case ErrorCode::CardError: return "Card error";
    case ErrorCode::TokenModuleFailed: return "PKCS#11 module failed";
    case ErrorCode::Busy: return "Card busy";
    case ErrorCode::Internal: return "Internal error";
    case ErrorCode::OperationForbidden: return "Operation not allowed for this origin";
    case ErrorCode::CardBlockedByPolicy: return "Card blocked by policy";
    case ErrorCode::PinRateLimited: return "Too many wrong PINs";
    case ErrorCode::PinCancelled: return "PIN entry cancelled";
    case ErrorCode::PinEntryTimeout: return "PIN entry timed out";
    case ErrorCode::PinEntryUnavailable: return "PIN dialog unavailable";
    case ErrorCode::PinSourceMismatch: return "PIN not accepted from this page";
    case ErrorCode::PinpadUnavailable: return "Pinpad unavailable";
    case ErrorCode::PairingRateLimited: return "Too many pairing requests";
    case ErrorCode::PairingCodeIncorrect: return "Pairing code incorrect";
    case ErrorCode::PairingNotPending: return "Pairing not pending";
    case ErrorCode::AlreadyPaired: return "Origin already allowed";
    case ErrorCode::AuditUnavailable: return "The usage ledger cannot be written";
    case ErrorCode::UnsupportedFormat: return "Unsupported document format";
    case ErrorCode::DocumentInvalid: return "Document cannot be signed";
    }
    return "Internal error";
}

std::string problemType(ErrorCode code)
{
    std::string type(kTypePrefix);
    for (char c : errorCodeName(code)) {
        type += (c == '_') ? '-' : static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    return type;
}

Response problemResponse(const Error& error)
{
    const ErrorCode code = error.code();
    const int status = httpStatus(code);
    if (code == ErrorCode::Internal) log::error("internal error: " + std::string(error.what()));

    nlohmann::ordered_json body{
        {"type", problemType(code)},
        {"title", problemTitle(code)},
        {"status", status},
        {"detail", code == ErrorCode::Internal ? std::string(kGenericInternalDetail) : std::string(error.what())},
        {"code", errorCodeName(code)},
    };
    if (error.triesLeft) body["triesLeft"] = *error.triesLeft;
    if (error.retryAfterSeconds) body["retryAfterSeconds"] = *error.retryAfterSeconds;
    if (error.statusWord) {
        char hex[5];
        std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(*error.statusWord));
        body["statusWord"] = hex;
    }

    Response response;
    response.status = status;
    response.contentType = std::string(kProblemContentType);
    response.problemCode = std::string(errorCodeName(code));
    // RFC 9110 §11.6.1: a 401 names the scheme that would be accepted.
    if (code == ErrorCode::Unauthorized) response.headers.set("WWW-Authenticate", "Bearer");
    // RFC 9110 §10.2.3: when a rate-limited request may be tried again, in seconds.
    if (error.retryAfterSeconds) response.headers.set("Retry-After", std::to_string(*error.retryAfterSeconds));
    // Invalid UTF-8 in a detail (e.g. from a card) is replaced, never thrown on.
    response.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return response;
}

Response problemResponse(std::exception_ptr failure)
{
    try {
        if (failure) std::rethrow_exception(failure);
        return problemResponse(Error(ErrorCode::Internal, "empty failure"));
    } catch (const Error& error) {
        return problemResponse(error);
    } catch (const std::exception& other) {
        return problemResponse(Error(ErrorCode::Internal, other.what()));
    } catch (...) {
        return problemResponse(Error(ErrorCode::Internal, "non-standard exception"));
    }
}

}  // namespace inkan::api
