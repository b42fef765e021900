// inkan — POST /v1/cards/{cardId}/signatures: document signatures in the
// formats portals accept (docs/formats.md). The document is checked and
// digested here, before any card access; the signature itself goes through
// the same card access as POST .../sign (and the 使用簿 when there is one).
#pragma once

#include <cstddef>
#include <string_view>

#include "api/router.hpp"
#include "daemon/audit/audited_access.hpp"
#include "daemon/security/card_access.hpp"

namespace inkan::api {

/// Decoded documents may be this large (32 MiB, the floor for real
/// documents); the request body limit of the route follows from it.
inline constexpr std::size_t kMaxDocumentBytes = 32 * 1024 * 1024;
/// The body limit of POST .../signatures: base64 grows 3 bytes to 4, plus
/// room for the other fields. Every other route keeps ServerOptions::bodyLimit.
inline constexpr std::size_t kDocumentBodyLimit = kMaxDocumentBytes / 3 * 4 + 64 * 1024;

/// True for the route that takes documents (POST /v1/cards/{cardId}/signatures):
/// the server gives its body the larger limit, decided from the request line
/// before the body is read.
bool takesDocument(std::string_view method, std::string_view path);

/// `access` and `audited` (when given) must outlive the router.
void registerDocumentRoutes(Router& router, security::CardAccess& access, audit::AuditedCardAccess* audited = nullptr);

}  // namespace inkan::api
