#include "api/pairing.hpp"

#include <nlohmann/json.hpp>

#include "api/json_mapping.hpp"
#include "api/policy.hpp"
#include "api/recorded.hpp"
#include "daemon/audit/audited_access.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

namespace {

constexpr int kAccepted = 202;  // RFC 9110 §15.3.3: the pairing waits for the user
constexpr int kNoContent = 204;

// Request members of an approval.
constexpr std::string_view kCodeField = "code";
constexpr std::string_view kOperationsField = "operations";
constexpr std::string_view kCardsField = "cards";
// A JSON body here is tiny; anything near this is not an approval.
constexpr std::size_t kMaxCards = 64;

Json operationsJson(const security::OperationSet& operations)
{
    Json list = Json::array();
    for (security::Operation operation : operations.list()) list.push_back(security::operationName(operation));
    return list;
}

Json grantJson(const security::OriginGrant& grant)
{
    Json json{{"origin", grant.origin}, {"operations", operationsJson(grant.operations)}};
    if (grant.cards) json["cards"] = *grant.cards;
    return json;
}

/// A pairing as its page sees it; `withCode` for the page that asked and the local client.
Json pairingJson(const security::Pairing& pairing, bool withCode)
{
    Json json{{"id", pairing.id}, {"origin", pairing.origin}};
    if (withCode) json["code"] = security::displayCode(pairing.code);
    json["status"] = security::pairingStatusName(pairing.status);
    json["createdAt"] = security::formatTime(pairing.createdAt);
    json["expiresAt"] = security::formatTime(pairing.expiresAt);
    return json;
}

/// The pairing and, once approved, what its origin may now do.
Json pairingWithGrantJson(const security::Pairing& pairing, const security::PairingStore& store, bool withCode)
{
    Json json = pairingJson(pairing, withCode);
    if (pairing.status == security::Pairing::Status::Approved) {
        if (const auto grant = store.grantFor(pairing.origin)) {
            json["operations"] = operationsJson(grant->operations);
            if (grant->cards) json["cards"] = *grant->cards;
        }
    }
    return json;
}

bool isWebPage(const Caller& caller)
{
    return caller.kind == Caller::Kind::BrowserOrigin || caller.kind == Caller::Kind::PairingCandidate;
}

/// Approvals, denials, listings and revocations are the user's, at this
/// computer: the API token and no Origin. A page — even an allowed one, even
/// with the token — is refused.
void requireLocalClient(const Caller& caller)
{
    if (caller.kind != Caller::Kind::LocalClient) {
        throw Error(ErrorCode::OriginForbidden,
                    "pairings are approved, listed and revoked only by the local client (`inkan pair`), never by a web page");
    }
}

/// The body of an approval. It holds no secret (the code is on the page
/// anyway), so it is read as plain JSON, arrays included.
struct Approval {
    std::string code;
    security::OperationSet operations = security::defaultOriginOperations();
    std::optional<std::vector<std::string>> cards;
};

Approval parseApproval(std::string_view text)
{
    const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) throw Error(ErrorCode::BadRequest, "request body must be a JSON object");
    Approval approval;
    const auto code = body.find(kCodeField);
    if (code == body.end() || !code->is_string()) {
        throw Error(ErrorCode::BadRequest, "field 'code' is required: the code the page shows");
    }
    approval.code = code->get<std::string>();
    if (const auto operations = body.find(kOperationsField); operations != body.end() && !operations->is_null()) {
        if (!operations->is_array() || operations->empty()) {
            throw Error(ErrorCode::BadRequest, "field 'operations' must be a non-empty array of \"read\", \"sign\", \"pin\"");
        }
        approval.operations = security::OperationSet();
        for (const auto& name : *operations) {
            const auto operation = name.is_string() ? security::operationFromName(name.get<std::string>()) : std::nullopt;
            if (!operation) throw Error(ErrorCode::BadRequest, "field 'operations' may hold only \"read\", \"sign\", \"pin\"");
            approval.operations.add(*operation);
        }
    }
    if (const auto cards = body.find(kCardsField); cards != body.end() && !cards->is_null()) {
        if (!cards->is_array() || cards->empty() || cards->size() > kMaxCards) {
            throw Error(ErrorCode::BadRequest, "field 'cards' must be a non-empty array of card ids");
        }
        std::vector<std::string> ids;
        for (const auto& id : *cards) {
            if (!id.is_string() || id.get<std::string>().empty()) throw Error(ErrorCode::BadRequest, "field 'cards' must hold card ids");
            ids.push_back(id.get<std::string>());
        }
        approval.cards = std::move(ids);
    }
    return approval;
}

const std::string& pairingIdOf(const RequestContext& context) { return context.params.at(0); }

/// The origin a pairing is for, for its record (the id when there is no such pairing).
std::string pairingOriginOf(security::Security& security, const std::string& id)
{
    const auto pairing = security.pairings().find(id);
    return pairing ? pairing->origin : id;
}

}  // namespace

void registerPairingRoutes(Router& router, security::Security& security, audit::Ledger* ledger)
{
    router.add("POST", "/v1/pairings", [&security](const RequestContext& context, Respond respond) {
        (void)JsonBody::parse(context.request.body);  // {} — a body that is not an object is refused all the same
        switch (context.caller.kind) {
        case Caller::Kind::PairingCandidate: break;
        case Caller::Kind::BrowserOrigin:
        case Caller::Kind::OwnOrigin:
            throw Error(ErrorCode::AlreadyPaired, "this origin may use inkand already; GET /v1/access says what it may do");
        case Caller::Kind::LocalClient:
        case Caller::Kind::ConsoleLogin:
        case Caller::Kind::Public:
            throw Error(ErrorCode::BadRequest, "pairing is for web pages: the request must come with their Origin");
        }
        const security::Pairing pairing = security.pairings().request(context.caller.origin);
        respond(jsonResponse(pairingJson(pairing, true), kAccepted));
    });

    router.add("GET", "/v1/pairings/{id}", [&security](const RequestContext& context, Respond respond) {
        const auto pairing = security.pairings().find(pairingIdOf(context));
        // Another origin's pairing is as unknown as a made-up id.
        const bool visible = pairing && (context.caller.kind == Caller::Kind::LocalClient ||
                                         (isWebPage(context.caller) && pairing->origin == context.caller.origin));
        if (!visible) throw Error(ErrorCode::NotFound, "no pairing with this id for this origin");
        respond(jsonResponse(pairingWithGrantJson(*pairing, security.pairings(), false)));
    });

    router.add("GET", "/v1/access", [&security](const RequestContext& context, Respond respond) {
        const security::AccessSummary access = security.cards().describe(principalOf(context.caller));
        Json json{{"standing", security::standingName(access.standing)}};
        if (!context.caller.origin.empty()) json["origin"] = context.caller.origin;
        json["operations"] = operationsJson(access.operations);
        if (access.cards) json["cards"] = *access.cards;
        json["pinSource"] = security::pinSourceName(access.pinSource);
        json["acknowledgeLowTries"] = access.mayAcknowledgeLowTries;
        // null: each PIN keeps its own share (docs/security.md "The PIN guard").
        json["pinGuardThreshold"] = access.pinGuardThreshold ? Json(*access.pinGuardThreshold) : Json(nullptr);
        respond(jsonResponse(json));
    });

    router.add("GET", "/v1/pairings", [&security](const RequestContext& context, Respond respond) {
        // The console (inkand's own page) may show the list, without the pending
        // codes: approving stays with the local client, which sees them.
        const bool console = context.caller.kind == Caller::Kind::OwnOrigin;
        if (!console) requireLocalClient(context.caller);
        Json pending = Json::array();
        for (const auto& pairing : security.pairings().pending()) pending.push_back(pairingJson(pairing, !console));
        Json paired = Json::array();
        for (const auto& entry : security.pairings().paired()) {
            Json json = grantJson(entry.grant);
            json["approvedAt"] = security::formatTime(entry.approvedAt);
            paired.push_back(std::move(json));
        }
        Json allowlisted = Json::array();
        for (const auto& grant : security.policy().settings().allowedOrigins) {
            Json json = grantJson(grant);
            if (grant.pinSource) json["pinSource"] = security::pinSourceName(*grant.pinSource);
            allowlisted.push_back(std::move(json));
        }
        respond(jsonResponse(Json{{"pending", std::move(pending)}, {"paired", std::move(paired)}, {"allowlisted", std::move(allowlisted)}}));
    });

    router.add("POST", "/v1/pairings/{id}/approve", [&security, ledger](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        Approval approval = parseApproval(context.request.body);
        const security::Pairing pairing =
            recorded(ledger, "pairing.approve", pairingOriginOf(security, pairingIdOf(context)), [&] {
                return security.pairings().approve(pairingIdOf(context), approval.code, approval.operations, std::move(approval.cards));
            });
        respond(jsonResponse(pairingWithGrantJson(pairing, security.pairings(), false)));
    });

    router.add("POST", "/v1/pairings/{id}/deny", [&security, ledger](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        (void)JsonBody::parse(context.request.body);
        const security::Pairing pairing = recorded(ledger, "pairing.deny", pairingOriginOf(security, pairingIdOf(context)),
                                                   [&] { return security.pairings().deny(pairingIdOf(context)); });
        respond(jsonResponse(pairingJson(pairing, false)));
    });

    router.add(
        "DELETE", "/v1/pairings/{origin}",
        [&security, ledger](const RequestContext& context, Respond respond) {
            requireLocalClient(context.caller);
            recorded(ledger, "pairing.revoke", context.params.at(0), [&] {
                if (!security.pairings().revoke(context.params.at(0))) {
                    throw Error(ErrorCode::NotFound, "this origin is not paired (allowlisted origins are changed in the config)");
                }
                return true;
            });
            Response response;
            response.status = kNoContent;
            respond(std::move(response));
        },
        Router::Slashes::Allowed);
}

}  // namespace inkan::api
