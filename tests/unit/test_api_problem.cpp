// The one mapping of inkan::Error to HTTP status and problem+json.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/problem.hpp"

using namespace inkan;
using namespace inkan::api;
using nlohmann::json;

namespace {

struct Expectation {
    ErrorCode code;
    int status;
    const char* name;
    const char* type;
};

// Every code of daemon/error.hpp with its status (openapi.yaml lists the same).
const std::vector<Expectation> kAll = {
    {ErrorCode::BadRequest, 400, "BAD_REQUEST", "urn:inkan:problem:bad-request"},
    {ErrorCode::PinFormat, 400, "PIN_FORMAT", "urn:inkan:problem:pin-format"},
    {ErrorCode::UnsupportedAlgorithm, 400, "UNSUPPORTED_ALGORITHM", "urn:inkan:problem:unsupported-algorithm"},
    {ErrorCode::UnsupportedOperation, 409, "UNSUPPORTED_OPERATION", "urn:inkan:problem:unsupported-operation"},
    {ErrorCode::CredentialInvalid, 400, "CREDENTIAL_INVALID", "urn:inkan:problem:credential-invalid"},
    {ErrorCode::Unauthorized, 401, "UNAUTHORIZED", "urn:inkan:problem:unauthorized"},
    {ErrorCode::HostForbidden, 403, "HOST_FORBIDDEN", "urn:inkan:problem:host-forbidden"},
    {ErrorCode::OriginForbidden, 403, "ORIGIN_FORBIDDEN", "urn:inkan:problem:origin-forbidden"},
    {ErrorCode::PinIncorrect, 403, "PIN_INCORRECT", "urn:inkan:problem:pin-incorrect"},
    {ErrorCode::PinRequired, 403, "PIN_REQUIRED", "urn:inkan:problem:pin-required"},
    {ErrorCode::UnblockCodeIncorrect, 403, "UNBLOCK_CODE_INCORRECT", "urn:inkan:problem:unblock-code-incorrect"},
    {ErrorCode::NotFound, 404, "NOT_FOUND", "urn:inkan:problem:not-found"},
    {ErrorCode::CardNotFound, 404, "CARD_NOT_FOUND", "urn:inkan:problem:card-not-found"},
    {ErrorCode::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED", "urn:inkan:problem:method-not-allowed"},
    {ErrorCode::CardRemoved, 409, "CARD_REMOVED", "urn:inkan:problem:card-removed"},
    {ErrorCode::PinGuard, 409, "PIN_GUARD", "urn:inkan:problem:pin-guard"},
    {ErrorCode::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE", "urn:inkan:problem:payload-too-large"},
    {ErrorCode::UnsupportedMediaType, 415, "UNSUPPORTED_MEDIA_TYPE", "urn:inkan:problem:unsupported-media-type"},
    {ErrorCode::PinBlocked, 423, "PIN_BLOCKED", "urn:inkan:problem:pin-blocked"},
    {ErrorCode::UnblockCodeBlocked, 423, "UNBLOCK_CODE_BLOCKED", "urn:inkan:problem:unblock-code-blocked"},
    {ErrorCode::Internal, 500, "INTERNAL", "urn:inkan:problem:internal"},
    {ErrorCode::CardError, 502, "CARD_ERROR", "urn:inkan:problem:card-error"},
    {ErrorCode::TokenModuleFailed, 502, "TOKEN_MODULE_FAILED", "urn:inkan:problem:token-module-failed"},
    {ErrorCode::Busy, 503, "BUSY", "urn:inkan:problem:busy"},
    {ErrorCode::PcscUnavailable, 503, "PCSC_UNAVAILABLE", "urn:inkan:problem:pcsc-unavailable"},
    {ErrorCode::ReaderUnavailable, 503, "READER_UNAVAILABLE", "urn:inkan:problem:reader-unavailable"},
    {ErrorCode::OperationForbidden, 403, "OPERATION_FORBIDDEN", "urn:inkan:problem:operation-forbidden"},
    {ErrorCode::CardBlockedByPolicy, 403, "CARD_BLOCKED_BY_POLICY", "urn:inkan:problem:card-blocked-by-policy"},
    {ErrorCode::PinRateLimited, 429, "PIN_RATE_LIMITED", "urn:inkan:problem:pin-rate-limited"},
    {ErrorCode::PinCancelled, 409, "PIN_CANCELLED", "urn:inkan:problem:pin-cancelled"},
    {ErrorCode::PinEntryTimeout, 409, "PIN_ENTRY_TIMEOUT", "urn:inkan:problem:pin-entry-timeout"},
    {ErrorCode::PinEntryUnavailable, 503, "PIN_ENTRY_UNAVAILABLE", "urn:inkan:problem:pin-entry-unavailable"},
    {ErrorCode::PinSourceMismatch, 400, "PIN_SOURCE_MISMATCH", "urn:inkan:problem:pin-source-mismatch"},
    {ErrorCode::PinpadUnavailable, 503, "PINPAD_UNAVAILABLE", "urn:inkan:problem:pinpad-unavailable"},
    {ErrorCode::PairingRateLimited, 429, "PAIRING_RATE_LIMITED", "urn:inkan:problem:pairing-rate-limited"},
    {ErrorCode::PairingCodeIncorrect, 403, "PAIRING_CODE_INCORRECT", "urn:inkan:problem:pairing-code-incorrect"},
    {ErrorCode::PairingNotPending, 409, "PAIRING_NOT_PENDING", "urn:inkan:problem:pairing-not-pending"},
    {ErrorCode::AlreadyPaired, 409, "ALREADY_PAIRED", "urn:inkan:problem:already-paired"},
    {ErrorCode::AuditUnavailable, 503, "AUDIT_UNAVAILABLE", "urn:inkan:problem:audit-unavailable"},
    {ErrorCode::UnsupportedFormat, 400, "UNSUPPORTED_FORMAT", "urn:inkan:problem:unsupported-format"},
    {ErrorCode::DocumentInvalid, 422, "DOCUMENT_INVALID", "urn:inkan:problem:document-invalid"},
};

// Every value of ErrorCode, found without a list that could fall behind:
// errorCodeName() names each enumerator (a switch the compiler checks for
// completeness) and answers "INTERNAL" past the last one, and the
// enumerators are numbered from 0 without gaps.
std::vector<ErrorCode> everyErrorCode()
{
    std::vector<ErrorCode> codes;
    for (int value = 0;; ++value) {
        const auto code = static_cast<ErrorCode>(value);
        if (code != ErrorCode::Internal && errorCodeName(code) == errorCodeName(ErrorCode::Internal)) break;
        codes.push_back(code);
    }
    return codes;
}

std::string readSourceFile(const char* relative)
{
    std::ifstream in(std::string(INKAN_SOURCE_DIR) + "/" + relative, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), relative);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_SUITE("api problem")
{
    TEST_CASE("every error code has its status, type, title and code")
    {
        for (const auto& e : kAll) {
            CAPTURE(e.name);
            const Response response = problemResponse(Error(e.code, "what happened"));
            CHECK(response.status == e.status);
            CHECK(response.contentType == "application/problem+json");
            const json body = json::parse(response.body);
            CHECK(body["type"] == e.type);
            CHECK(body["status"] == e.status);
            CHECK(body["code"] == e.name);
            CHECK_FALSE(body["title"].get<std::string>().empty());
            CHECK(body["title"] == std::string(problemTitle(e.code)));
            if (e.code != ErrorCode::Internal) CHECK(body["detail"] == "what happened");
            CHECK_FALSE(body.contains("triesLeft"));
            CHECK_FALSE(body.contains("statusWord"));
        }
    }

    TEST_CASE("the table above, docs/errors.md and openapi.yaml cover every error code")
    {
        const auto codes = everyErrorCode();
        CHECK(codes.size() > 30);
        CHECK(codes.back() != ErrorCode::Internal);
        const auto errorsDoc = readSourceFile("docs/errors.md");
        const auto contract = readSourceFile("openapi.yaml");
        for (const auto code : codes) {
            const std::string name(errorCodeName(code));
            CAPTURE(name);
            const auto row = std::find_if(kAll.begin(), kAll.end(), [&](const Expectation& e) { return e.code == code; });
            CHECK_MESSAGE(row != kAll.end(), "add a row for this code to kAll");
            CHECK_MESSAGE(errorsDoc.find("`" + name + "`") != std::string::npos, "docs/errors.md does not describe it");
            CHECK_MESSAGE(contract.find(name) != std::string::npos, "openapi.yaml does not name it");
        }
        CHECK(kAll.size() == codes.size());
    }

    TEST_CASE("triesLeft and statusWord appear when the error carries them")
    {
        const json tries = json::parse(problemResponse(Error(ErrorCode::PinIncorrect, "wrong").withTriesLeft(0)).body);
        CHECK(tries["triesLeft"] == 0);
        const json sw = json::parse(problemResponse(Error(ErrorCode::CardError, "odd").withStatusWord(0x6a8)).body);
        CHECK(sw["statusWord"] == "06A8");
        const json sw2 = json::parse(problemResponse(Error(ErrorCode::CardError, "odd").withStatusWord(0x6F00)).body);
        CHECK(sw2["statusWord"] == "6F00");
    }

    TEST_CASE("a 401 names the Bearer scheme")
    {
        const Response response = problemResponse(Error(ErrorCode::Unauthorized, "no"));
        CHECK(response.headers.get("WWW-Authenticate") == std::optional<std::string_view>("Bearer"));
        CHECK(problemResponse(Error(ErrorCode::HostForbidden, "no")).headers.count("WWW-Authenticate") == 0);
    }

    TEST_CASE("internal details stay in the log, not the response")
    {
        const json internal = json::parse(problemResponse(Error(ErrorCode::Internal, "pointer 0x1234 was null")).body);
        CHECK(internal["detail"].get<std::string>().find("0x1234") == std::string::npos);

        const Response fromException = problemResponse(std::make_exception_ptr(std::logic_error("secret internals")));
        CHECK(fromException.status == 500);
        CHECK(fromException.body.find("secret internals") == std::string::npos);
        CHECK(json::parse(fromException.body)["code"] == "INTERNAL");

        const Response fromInt = problemResponse(std::make_exception_ptr(42));
        CHECK(fromInt.status == 500);
        CHECK(problemResponse(std::exception_ptr()).status == 500);
    }

    TEST_CASE("a domain error thrown as exception_ptr keeps its code and fields")
    {
        const Response response =
            problemResponse(std::make_exception_ptr(Error(ErrorCode::UnblockCodeIncorrect, "wrong code").withTriesLeft(9)));
        CHECK(response.status == 403);
        CHECK(json::parse(response.body)["triesLeft"] == 9);
    }

    TEST_CASE("invalid UTF-8 in a detail is replaced, not thrown on")
    {
        const Response response = problemResponse(Error(ErrorCode::CardError, std::string("bad \xC3\x28 bytes")));
        CHECK(response.status == 502);
        CHECK_NOTHROW(json::parse(response.body));
    }
}
