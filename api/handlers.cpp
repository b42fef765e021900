#include "api/handlers.hpp"

#include <memory>
#include <utility>
#include <variant>

#include "api/json_mapping.hpp"
#include "api/problem.hpp"

namespace inkan::api {

namespace {

/// A completion that answers with `render(value)` or with the problem for the failure.
/// Runs on the card's worker thread; touches nothing but its own captures.
template <class T, class Render>
Completion<T> answer(Respond respond, Render render)
{
    return [respond = std::move(respond), render = std::move(render)](Outcome<T> outcome) mutable {
        if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
            respond(problemResponse(*failure));
            return;
        }
        Response response;
        try {
            response = render(std::get<T>(outcome));
        } catch (...) {
            response = problemResponse(std::current_exception());
        }
        respond(std::move(response));
    };
}

Completion<PinStatus> answerPinStatus(Respond respond)
{
    return answer<PinStatus>(std::move(respond), [](const PinStatus& pin) { return jsonResponse(toJson(pin)); });
}

const std::string& cardIdOf(const RequestContext& context) { return context.params.at(0); }

}  // namespace

void registerCardRoutes(Router& router, CardAgent& agent, std::string version)
{
    router.add("GET", "/v1/status", [&agent, version = std::move(version)](const RequestContext&, Respond respond) {
        agent.status(answer<AgentStatus>(std::move(respond), [version](const AgentStatus& status) {
            return jsonResponse(statusToJson(status, version));
        }));
    });

    router.add("GET", "/v1/cards", [&agent](const RequestContext&, Respond respond) {
        agent.cards(answer<std::vector<CardSummary>>(std::move(respond), [](const std::vector<CardSummary>& cards) {
            Json list = Json::array();
            for (const auto& card : cards) list.push_back(toJson(card));
            return jsonResponse(Json{{"cards", std::move(list)}});
        }));
    });

    router.add("GET", "/v1/cards/{cardId}", [&agent](const RequestContext& context, Respond respond) {
        agent.card(cardIdOf(context), answer<CardSummary>(std::move(respond), [](const CardSummary& card) {
            return jsonResponse(toJson(card));
        }));
    });

    router.add("GET", "/v1/cards/{cardId}/certificates/{certId}", [&agent](const RequestContext& context, Respond respond) {
        agent.certificate(cardIdOf(context), context.params.at(1),
                          answer<CertificateSummary>(std::move(respond), [](const CertificateSummary& certificate) {
                              return jsonResponse(certificateWithDer(certificate));
                          }));
    });

    router.add("GET", "/v1/cards/{cardId}/pin", [&agent](const RequestContext& context, Respond respond) {
        agent.pinStatus(cardIdOf(context), answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/pin/verify", [&agent](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        Secret pin = body.requiredSecret("pin");
        agent.verifyPin(cardIdOf(context), std::move(pin), answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/pin/change", [&agent](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        Secret pin = body.requiredSecret("pin");
        Secret newPin = body.requiredSecret("newPin");
        agent.changePin(cardIdOf(context), std::move(pin), std::move(newPin), answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/pin/unblock", [&agent](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        Secret unblockCode = body.requiredSecret("unblockCode");
        Secret newPin = body.requiredSecret("newPin");
        agent.unblockPin(cardIdOf(context), std::move(unblockCode), std::move(newPin),
                         answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/sign", [&agent](const RequestContext& context, Respond respond) {
        SignRequest request = parseSignRequest(JsonBody::parse(context.request.body));
        agent.sign(cardIdOf(context), std::move(request), answer<SignResult>(std::move(respond), [](const SignResult& result) {
            return jsonResponse(toJson(result));
        }));
    });
}

}  // namespace inkan::api
