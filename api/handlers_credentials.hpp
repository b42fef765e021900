// inkan — the routes that import and remove file credentials
// (docs/credentials.md). The local client only: a page never adds a key.
#pragma once

#include "api/router.hpp"
#include "daemon/audit/ledger.hpp"
#include "daemon/credentials/file_credentials.hpp"

namespace inkan::api {

struct ExpiryPolicy;

/// Imports and removals are recorded in `ledger` when there is one.
void registerCredentialRoutes(Router& router, credentials::FileCredentials& files, const ExpiryPolicy& expiry,
                              audit::Ledger* ledger);

}  // namespace inkan::api
