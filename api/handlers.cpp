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

/// The PIN a /pins/{pinId}/... route names; none on the /pin/... routes (the card's default PIN).
std::optional<std::string> pinIdOf(const RequestContext& context)
{
    if (context.params.size() < 2) return std::nullopt;
    return context.params.at(1);
}

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
            return jsonResponse(cardsJsonText(cards, expiry));
        }));
    });

    router.add("GET", "/v1/cards/{cardId}", [&access, expiry](const RequestContext& context, Respond respond) {
        access.card(principalOf(context.caller), cardIdOf(context), answer<CardSummary>(std::move(respond), [expiry](const CardSummary& card) {
            return jsonResponse(cardJsonText(card, expiry));
        }));
    });

    router.add("GET", "/v1/cards/{cardId}/certificates/{certId}", [&access, expiry](const RequestContext& context, Respond respond) {
        access.certificate(principalOf(context.caller), cardIdOf(context), context.params.at(1),
                           answer<CertificateSummary>(std::move(respond), [expiry](const CertificateSummary& certificate) {
                               return jsonResponse(certificateResourceJson(certificate, expiry));
                           }));
    });

    router.add("GET", "/v1/cards/{cardId}/unblock-code", [&access](const RequestContext& context, Respond respond) {
        access.unblockCodeStatus(principalOf(context.caller), cardIdOf(context), std::nullopt,
                                 answerPinStatus(std::move(respond)));
    });

    router.add("GET", "/v1/cards/{cardId}/pin", [&access](const RequestContext& context, Respond respond) {
        access.pinStatus(principalOf(context.caller), cardIdOf(context), std::nullopt, answerPinStatus(std::move(respond)));
    });

    // Every PIN of the card, as inkand last read them (no APDU).
    router.add("GET", "/v1/cards/{cardId}/pins", [&access](const RequestContext& context, Respond respond) {
        access.card(principalOf(context.caller), cardIdOf(context), answer<CardSummary>(std::move(respond), [](const CardSummary& card) {
            Json pins = Json::array();
            for (const auto& pin : card.pins) pins.push_back(toJson(pin, pin.status));
            return jsonResponse(Json{{"pins", std::move(pins)}});
        }));
    });

    // One PIN, its counter read from the card (no try spent).
    router.add("GET", "/v1/cards/{cardId}/pins/{pinId}", [&access](const RequestContext& context, Respond respond) {
        const security::Principal principal = principalOf(context.caller);
        const std::string cardId = cardIdOf(context);
        const std::string pinId = context.params.at(1);
        access.card(principal, cardId, [&access, principal, cardId, pinId, respond = std::move(respond)](Outcome<CardSummary> outcome) mutable {
            if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) return respond(problemResponse(*failure));
            PinSummary pin;
            try {
                pin = std::get<CardSummary>(outcome).pin(pinId);
            } catch (...) {
                return respond(problemResponse(std::current_exception()));
            }
            access.pinStatus(principal, cardId, pinId, answer<PinStatus>(std::move(respond), [pin](const PinStatus& status) {
                return jsonResponse(toJson(pin, status));
            }));
        });
    });

    // The PIN operations, on the card's default PIN (/pin/...) or on one PIN
    // by id (/pins/{pinId}/...). The PIN fields are optional here: whether the
    // request must carry them depends on the origin's PIN source, which the
    // card access decides. With a ledger, each of these goes through it
    // (daemon/audit/audited_access.hpp).
    for (const std::string base : {"/v1/cards/{cardId}/pin", "/v1/cards/{cardId}/pins/{pinId}"}) {
        router.add("POST", base + "/verify", [&access, audited](const RequestContext& context, Respond respond) {
            const JsonBody body = JsonBody::parse(context.request.body);
            const auto options = pinOptionsOf(body, pinIdOf(context));
            if (audited) {
                const audit::RequestInfo info = requestInfoOf(context, respond);
                audited->verifyPin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("pin"), options,
                                   answerPinStatus(std::move(respond)));
                return;
            }
            access.verifyPin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("pin"), options,
                             answerPinStatus(std::move(respond)));
        });

        router.add("POST", base + "/change", [&access, audited](const RequestContext& context, Respond respond) {
            const JsonBody body = JsonBody::parse(context.request.body);
            const auto options = pinOptionsOf(body, pinIdOf(context));
            if (audited) {
                const audit::RequestInfo info = requestInfoOf(context, respond);
                audited->changePin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("pin"),
                                   body.optionalSecret("newPin"), options, answerPinStatus(std::move(respond)));
                return;
            }
            access.changePin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("pin"),
                             body.optionalSecret("newPin"), options, answerPinStatus(std::move(respond)));
        });

        router.add("POST", base + "/unblock", [&access, audited](const RequestContext& context, Respond respond) {
            const JsonBody body = JsonBody::parse(context.request.body);
            const auto options = pinOptionsOf(body, pinIdOf(context));
            if (audited) {
                const audit::RequestInfo info = requestInfoOf(context, respond);
                audited->unblockPin(principalOf(context.caller), info, cardIdOf(context), body.optionalSecret("unblockCode"),
                                    body.optionalSecret("newPin"), options, answerPinStatus(std::move(respond)));
                return;
            }
            access.unblockPin(principalOf(context.caller), cardIdOf(context), body.optionalSecret("unblockCode"),
                              body.optionalSecret("newPin"), options, answerPinStatus(std::move(respond)));
        });
    }

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
