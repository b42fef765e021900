// inkan — the /v1 resources: one handler per route, each mapping JSON to one
// CardAgent call and its outcome back to JSON. Handlers know no APDU and no
// socket; input is validated here, before any card access.
#pragma once

#include <string>

#include "api/router.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::api {

/// Register every /v1 route on `router`. `agent` must outlive the router and
/// every operation started through it.
void registerCardRoutes(Router& router, CardAgent& agent, std::string version);

}  // namespace inkan::api
