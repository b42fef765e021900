#include "api/handlers_credentials.hpp"
#include "api/api.hpp"

#include <atomic>
#include <memory>

#include "api/console.hpp"
#include "api/console_session.hpp"
#include "api/event_stream.hpp"
#include "api/handlers.hpp"
#include "api/handlers_audit.hpp"
#include "api/handlers_documents.hpp"
#include "api/log.hpp"
#include "api/pairing.hpp"
#include "api/problem.hpp"

namespace inkan::api {

namespace {

/// Wrap `respond` so that only its first call goes through (the contract of
/// Respond), whatever a handler or a card completion does.
Respond onlyOnce(Respond respond)
{
    struct State {
        std::atomic<bool> used{false};
        Respond respond;
    };
    auto state = std::make_shared<State>();
    state->respond = std::move(respond);
    return [state](Response response) {
        if (state->used.exchange(true)) {
            log::error("a second response to one request was dropped");
            return;
        }
        state->respond(std::move(response));
    };
}

std::shared_ptr<security::Security> securityFor(CardAgent& agent, const GateOptions& gate,
                                                std::shared_ptr<security::Security> given)
{
    if (given) return given;
    security::SecurityOptions options;
    for (const auto& origin : gate.allowedOrigins) {
        security::OriginGrant grant;
        grant.origin = origin;
        options.settings.allowedOrigins.push_back(std::move(grant));
    }
    options.settings.allowInsecureLocalhostOrigins = gate.allowInsecureLocalhostOrigins;
    options.settings.pinentryProgram.reset();
    options.log = [](std::string_view line) { log::info(line); };
    return std::make_shared<security::Security>(agent, std::move(options));
}

GateOptions withPairings(GateOptions gate, const security::Security& security)
{
    if (!gate.pairings) gate.pairings = security.sharedPairings();
    return gate;
}

}  // namespace

Api::Api(CardAgent& agent, GateOptions gate, std::string version, service::EventBus* events,
         CertificateServices certificates, std::shared_ptr<security::Security> security, std::shared_ptr<audit::Ledger> ledger,
         credentials::FileCredentials* files)
    : security_(securityFor(agent, gate, std::move(security))),
      ledger_(std::move(ledger)),
      audited_(ledger_ ? std::make_unique<audit::AuditedCardAccess>(security_->cards(), *ledger_) : nullptr),
      gate_(withPairings(std::move(gate), *security_))
{
    registerCardRoutes(router_, security_->cards(), std::move(version), certificates.expiry, audited_.get());
    if (files) registerCredentialRoutes(router_, *files, certificates.expiry, ledger_.get());
    registerDocumentRoutes(router_, security_->cards(), audited_.get());
    registerPairingRoutes(router_, *security_, ledger_.get());
    certificates.audited = audited_.get();
    registerCertificateRoutes(router_, security_->cards(), certificates);
    if (ledger_) registerAuditRoutes(router_, *ledger_);
    if (events) registerEventRoutes(router_, *events, &gate_.consoleSessions());
    registerConsoleRoutes(router_);
    registerConsoleSessionRoutes(router_, gate_);
}

void Api::handle(const Request& request, Respond respond) const
{
    // Every answer, whenever and wherever it is produced, is sealed by the gate.
    const Respond send = onlyOnce([this, cors = gate_.corsOrigin(request), respond = std::move(respond)](Response response) {
        gate_.seal(response, cors);
        respond(std::move(response));
    });

    try {
        const Admission admission = gate_.admit(request);
        if (admission.preflight) {
            send(gate_.preflight(admission));
            return;
        }

        Router::Match match = router_.match(request.method, request.path());
        switch (match.kind) {
        case Router::Match::Kind::NotFound:
            // The target is not echoed back (it is attacker-controlled text).
            send(problemResponse(Error(ErrorCode::NotFound, "no such resource")));
            return;
        case Router::Match::Kind::MethodNotAllowed: {
            Response response = problemResponse(Error(ErrorCode::MethodNotAllowed, "this resource does not support that method"));
            response.headers.set("Allow", match.allow + ", OPTIONS");
            send(std::move(response));
            return;
        }
        case Router::Match::Kind::Found:
            (*match.handler)(RequestContext{request, admission.caller, match.params}, send);
            return;
        }
    } catch (...) {
        // Input errors thrown before the card was asked (and anything unexpected).
        send(problemResponse(std::current_exception()));
    }
}

Response Api::reject(const Request& request, const Error& error) const
{
    Response response = problemResponse(error);
    response.closeConnection = true;
    gate_.seal(response, gate_.corsOrigin(request));
    return response;
}

}  // namespace inkan::api
