// inkan — the console's login over HTTP (docs/security.md "The console logs
// in"): the routes around daemon/security/console_sessions.*, whose codes and
// sessions the gate (api/gate.*) consults on every request.
//
//   POST   /v1/console/login    local client (token) -> {"code", "url", "expiresIn"}
//   POST   /v1/console/session  the console page, {"code"} -> 204 and the session cookie
//   DELETE /v1/console/session  the console page -> 204, the session ended, the cookie cleared
#pragma once

#include "api/gate.hpp"
#include "api/router.hpp"

namespace inkan::api {

void registerConsoleSessionRoutes(Router& router, const Gate& gate);

}  // namespace inkan::api
