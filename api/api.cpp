#include "api/api.hpp"

#include <atomic>
#include <memory>

#include "api/handlers.hpp"
#include "api/log.hpp"
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

}  // namespace

Api::Api(CardAgent& agent, GateOptions gate, std::string version) : gate_(std::move(gate))
{
    registerCardRoutes(router_, agent, std::move(version));
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
