// inkan — the /v1 resources: one handler per route, each mapping JSON to one
// call of the card access (the CardAgent behind the origin policy and the PIN
// guard, daemon/security/card_access.hpp) and its outcome back to JSON.
// Handlers know no APDU and no socket; input is validated here, before any
// card access.
#pragma once

#include <string>

#include "api/json_certificates.hpp"
#include "api/router.hpp"
#include "daemon/audit/audited_access.hpp"
#include "daemon/security/card_access.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::api {

/// The request's id and client, for its 使用簿 records; wraps `respond` so the
/// answer carries the id as X-Request-Id.
audit::RequestInfo requestInfoOf(const RequestContext& context, Respond& respond);

/// Register every /v1 card route on `router`. `access` must outlive the router
/// and every operation started through it. `expiry` decides which
/// certificates status and cards flag as expiring soon. `audited`, when given
/// (it must outlive the router too), records PIN operations and signatures
/// in the 使用簿 (docs/audit.md).
void registerCardRoutes(Router& router, security::CardAccess& access, std::string version, ExpiryPolicy expiry = {},
                        audit::AuditedCardAccess* audited = nullptr);

}  // namespace inkan::api
