// inkan — the HTTP API as a pure function of a request: gate, router,
// handlers, problem+json. The server (api/server.*) only moves bytes.
#pragma once

#include <string>

#include "api/gate.hpp"
#include "api/http_message.hpp"
#include "api/router.hpp"
#include "daemon/error.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::api {

class Api {
public:
    /// `agent` must outlive the Api and every request it is serving.
    Api(CardAgent& agent, GateOptions gate, std::string version);

    /// Serve one request. `respond` is called exactly once, possibly later and
    /// on a card worker thread. The request (including its body) is only read
    /// before handle() returns; the caller may wipe it then.
    void handle(const Request& request, Respond respond) const;

    /// The answer to a request that could not be read completely (too large,
    /// malformed); `request` holds what was parsed of its header. The
    /// connection is closed after it.
    Response reject(const Request& request, const Error& error) const;

    const Gate& gate() const noexcept { return gate_; }

private:
    Gate gate_;
    Router router_;
};

}  // namespace inkan::api
