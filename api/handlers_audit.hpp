// inkan — GET /v1/audit: the 使用簿 (docs/audit.md), one entry per operation,
// paged and filtered as `inkan log` offers. Only the local client and the
// logged-in console may read it: which sites used which card when is the
// user's business, not a web page's.
#pragma once

#include "api/router.hpp"
#include "daemon/audit/ledger.hpp"

namespace inkan::api {

/// `ledger` must outlive the router.
void registerAuditRoutes(Router& router, const audit::Ledger& ledger);

/// The filter of a GET /v1/audit target's query: since, until (RFC 3339),
/// card, origin ("local" for the local client), after (a page's `next`),
/// limit (1-1000). Throws Error(BadRequest) for a malformed one.
audit::Query auditQueryOf(std::string_view target);

}  // namespace inkan::api
