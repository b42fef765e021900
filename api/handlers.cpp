#include "api/handlers.hpp"

#include <memory>
#include <utility>
#include <variant>

#include "api/answer.hpp"
#include "api/json_certificates.hpp"
#include "api/json_mapping.hpp"
#include "api/policy.hpp"
#include "api/problem.hpp"
#include "daemon/platform/peer_uid.hpp"

namespace inkan::api {

namespace {

Completion<PinStatus> answerPinStatus(Respond respond)
{
    return answer<PinStatus>(std::move(respond), [](const PinStatus& pin) { return jsonResponse(toJson(pin)); });
}

const std::string& cardIdOf(const RequestContext& context) { return context.params.at(0); }

}  // namespace

/// The request's id and client, for its 使用簿 records; the id is sent back
/// as X-Request-Id so a caller can find its records. The OS user is the owner
/// of the client's socket, as the server found it before admitting the
/// connection; the program is not looked up (it would mean searching every
/// process's open files for the socket).
audit::RequestInfo requestInfoOf(const RequestContext& context, Respond& respond)
{
    audit::RequestInfo info;
    info.requestId = audit::newRequestId();
    if (context.request.peerUser) info.osUser = platform::userName(*context.request.peerUser);
    respond = [id = info.requestId, respond = std::move(respond)](Response response) {
        response.headers.set("X-Request-Id", id);
        respond(std::move(response));
    };
    return info;
}

void registerCardRoutes(Router& router, security::CardAccess& access, std::string version, ExpiryPolicy expiry,
                        audit::AuditedCardAccess* audited)
{
    router.add("GET", "/v1/status", [&access, version = std::move(version), expiry](const RequestContext& context, Respond respond) {
        // Certificate expiry per reader comes from the card listing.
        const security::Principal principal = principalOf(context.caller);
        access.status(principal, [&access, principal, version, expiry, respond = std::move(respond)](Outcome<AgentStatus> outcome) mutable {
            if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
                respond(problemResponse(*failure));
                return;
            }
            access.cards(principal, answer<std::vector<CardSummary>>(
                std::move(respond), [status = std::get<AgentStatus>(std::move(outcome)), version, expiry](const std::vector<CardSummary>& cards) {
                    return jsonResponse(statusJson(status, cards, version, expiry));
                }));
        });
    });

    router.add("GET", "/v1/cards", [&access, expiry](const RequestContext& context, Respond respond) {
        access.cards(principalOf(context.caller), answer<std::vector<CardSummary>>(std::move(respond), [expiry](const std::vector<CardSummary>& cards) {
            Json list = Json::array();
            for (const auto& card : cards) list.push_back(cardJson(card, expiry));
            return jsonResponse(Json{{"cards", std::move(list)}});
        }));
    });

    router.add("GET", "/v1/cards/{cardId}", [&access, expiry](const RequestContext& context, Respond respond) {
        access.card(principalOf(context.caller), cardIdOf(context), answer<CardSummary>(std::move(respond), [expiry](const CardSummary& card) {
            return jsonResponse(cardJson(card, expiry));
        }));
    });

    router.add("GET", "/v1/cards/{cardId}/certificates/{certId}", [&access, expiry](const RequestContext& context, Respond respond) {
        access.certificate(principalOf(context.caller), cardIdOf(context), context.params.at(1),
                           answer<CertificateSummary>(std::move(respond), [expiry](const CertificateSummary& certificate) {
                               return jsonResponse(certificateResourceJson(certificate, expiry));
                           }));
    });

    router.add("GET", "/v1/cards/{cardId}/unblock-code", [&access](const RequestContext& context, Respond respond) {
        access.unblockCodeStatus(principalOf(context.caller), cardIdOf(context), answerPinStatus(std::move(respond)));
    });

    router.add("GET", "/v1/cards/{cardId}/pin", [&access](const RequestContext& context, Respond respond) {
        access.pinStatus(principalOf(context.caller), cardIdOf(context), answerPinStatus(std::move(respond)));
    });

    // The PIN fields are optional here: whether the request must carry them
    // depends on the origin's PIN source, which the card access decides.
    // With a ledger, each of these goes through it (daemon/audit/audited_access.hpp).
    router.add("POST", "/v1/cards/{cardId}/pin/verify", [&access, audited](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        if (audited) {
            const audit::RequestInfo info = requestInfoOf(context, respond);
            audited->verifyPin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("pin"), pinOptionsOf(body),
                               answerPinStatus(std::move(respond)));
            return;
        }
        access.verifyPin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("pin"), pinOptionsOf(body),
                         answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/pin/change", [&access, audited](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        if (audited) {
            const audit::RequestInfo info = requestInfoOf(context, respond);
            audited->changePin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("pin"),
                               body.optionalSecret("newPin"), pinOptionsOf(body), answerPinStatus(std::move(respond)));
            return;
        }
        access.changePin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("pin"),
                         body.optionalSecret("newPin"), pinOptionsOf(body), answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/pin/unblock", [&access, audited](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        if (audited) {
            const audit::RequestInfo info = requestInfoOf(context, respond);
            audited->unblockPin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("unblockCode"),
                                body.optionalSecret("newPin"), pinOptionsOf(body), answerPinStatus(std::move(respond)));
            return;
        }
        access.unblockPin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("unblockCode"),
                          body.optionalSecret("newPin"), pinOptionsOf(body), answerPinStatus(std::move(respond)));
    });

    router.add("POST", "/v1/cards/{cardId}/sign", [&access, audited](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        SignRequest request = parseSignRequest(body);
        if (audited) {
            const audit::RequestInfo info = requestInfoOf(context, respond);
            audited->sign(principalOf(context.caller), info, cardIdOf(context), std::move(request), pinOptionsOf(body),
                          answer<SignResult>(std::move(respond), [](const SignResult& result) { return jsonResponse(toJson(result)); }));
            return;
        }
        access.sign(principalOf(context.caller), cardIdOf(context), std::move(request), pinOptionsOf(body),
                    answer<SignResult>(std::move(respond), [](const SignResult& result) { return jsonResponse(toJson(result)); }));
    });
}

}  // namespace inkan::api
