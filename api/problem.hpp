// inkan — the one mapping of inkan::Error to HTTP (RFC 9457 problem details).
//
// Every error response of the API is built here: the gate's refusals, the
// router's 404/405, handlers' input errors and the card domain's failures.
// The `code` member is the stable upper-snake name of openapi.yaml; `type` is
// urn:inkan:problem:<code in lower-kebab>.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "api/http_message.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

/// The HTTP status of a code, e.g. PinBlocked -> 423.
int httpStatus(ErrorCode code) noexcept;

/// A short human title of a code, the same for every occurrence (RFC 9457 §3.1.3).
std::string_view problemTitle(ErrorCode code) noexcept;

/// "urn:inkan:problem:pin-incorrect" for PinIncorrect.
std::string problemType(ErrorCode code);

/// The problem+json response for a domain error. The detail is the error's
/// message, except for Internal, whose message may describe internals and is
/// logged instead.
Response problemResponse(const Error& error);

/// The problem+json response for anything thrown by a handler or a card
/// operation: inkan::Error as above, anything else as INTERNAL with a generic
/// detail (the exception's text goes to the log only).
Response problemResponse(std::exception_ptr failure);

}  // namespace inkan::api
