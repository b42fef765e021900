// inkan — the HTTP API as a pure function of a request: gate, router,
// handlers, problem+json. The server (api/server.*) only moves bytes.
#pragma once

#include <memory>
#include <string>

#include "api/gate.hpp"
#include "api/handlers_cert.hpp"
#include "api/http_message.hpp"
#include "api/router.hpp"
#include "daemon/audit/audited_access.hpp"
#include "daemon/audit/ledger.hpp"
#include "daemon/error.hpp"
#include "daemon/credentials/file_credentials.hpp"
#include "daemon/security/security.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/event_bus.hpp"

namespace inkan::api {

class Api {
public:
    /// `agent` (and `events`, when given: it serves GET /v1/events; and
    /// `certificates.checker`, when given: it serves certificate validation
    /// and the card self-test) must outlive the Api and every request it is serving.
    /// `security` decides who may do what (docs/security.md); null: a default
    /// one with the gate's allowlisted origins (read and sign, PINs in the
    /// request), pairings in memory and no PIN dialogs. `ledger`, when given,
    /// records every use of a card (docs/audit.md) and serves GET /v1/audit.
    /// `files`, when given, serves the import and removal of file credentials
    /// (docs/credentials.md); `agent` then lists them (credentials::CombinedAgent).
    Api(CardAgent& agent, GateOptions gate, std::string version, service::EventBus* events = nullptr,
        CertificateServices certificates = {}, std::shared_ptr<security::Security> security = nullptr,
        std::shared_ptr<audit::Ledger> ledger = nullptr, credentials::FileCredentials* files = nullptr);

    /// Serve one request. `respond` is called exactly once, possibly later and
    /// on a card worker thread. The request (including its body) is only read
    /// before handle() returns; the caller may wipe it then.
    void handle(const Request& request, Respond respond) const;

    /// The answer to a request that could not be read completely (too large,
    /// malformed); `request` holds what was parsed of its header. The
    /// connection is closed after it.
    Response reject(const Request& request, const Error& error) const;

    const Gate& gate() const noexcept { return gate_; }

    security::Security& security() const noexcept { return *security_; }

private:
    std::shared_ptr<security::Security> security_;  // first: the gate consults its pairings
    std::shared_ptr<audit::Ledger> ledger_;
    std::unique_ptr<audit::AuditedCardAccess> audited_;
    Gate gate_;
    Router router_;
};

}  // namespace inkan::api
