// inkan — the pairing resources and GET /v1/access (docs/security.md "Pairing"):
//
//   POST   /v1/pairings                 a page asks for access           (origin not yet allowed)
//   GET    /v1/pairings/{id}            the page polls the answer        (that origin only)
//   GET    /v1/access                   what the calling page may do     (any trustworthy origin)
//   GET    /v1/pairings                 pending, paired and allowlisted  (local client only)
//   POST   /v1/pairings/{id}/approve    {"code", "operations"?, "cards"?} (local client only)
//   POST   /v1/pairings/{id}/deny       {}                               (local client only)
//   DELETE /v1/pairings/{origin}        revoke a paired origin           (local client only)
//
// "Local client only" means a request with the API token and without an
// Origin header: a web page can never approve itself, whatever it is allowed.
#pragma once

#include "api/router.hpp"
#include "daemon/security/security.hpp"

#include "daemon/audit/ledger.hpp"

namespace inkan::api {

/// `security` must outlive the router and every request it serves; so must
/// `ledger`, when given: approvals, denials and revocations are recorded in it.
void registerPairingRoutes(Router& router, security::Security& security, audit::Ledger* ledger = nullptr);

}  // namespace inkan::api
