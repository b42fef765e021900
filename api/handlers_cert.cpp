#include "api/handlers_cert.hpp"

#include <memory>
#include <utility>
#include <variant>

#include "api/answer.hpp"
#include "api/policy.hpp"
#include "api/problem.hpp"
#include "daemon/error.hpp"
#include "daemon/service/rfc3339.hpp"
#include "daemon/service/self_test.hpp"

namespace inkan::api {

namespace {

constexpr std::string_view kAtParameter = "at";

/// The body of POST .../selftest: an optional "pin" (and the PIN request
/// options of any signature). An empty body is the same as {}.
struct SelfTestRequest {
    std::optional<Secret> pin;
    security::PinRequestOptions pinOptions;
};

SelfTestRequest selfTestRequestOf(const Request& request)
{
    SelfTestRequest parsed;
    if (request.body.empty()) return parsed;
    const JsonBody body = JsonBody::parse(request.body);
    parsed.pin = body.optionalSecret("pin");
    if (parsed.pin && parsed.pin->empty()) throw Error(ErrorCode::BadRequest, "field 'pin' must not be empty");
    parsed.pinOptions = pinOptionsOf(body);
    return parsed;
}

/// The self-test's card steps as `principal` may do them: reads need
/// "read", the test signature needs "sign" and passes the PIN guard.
service::SelfTestCardSteps stepsFor(security::CardAccess& access, const security::Principal& principal,
                                    const std::string& cardId, security::PinRequestOptions pinOptions)
{
    service::SelfTestCardSteps steps;
    steps.card = [&access, principal, cardId](Completion<CardSummary> done) { access.card(principal, cardId, std::move(done)); };
    steps.status = [&access, principal](Completion<AgentStatus> done) { access.status(principal, std::move(done)); };
    steps.pinStatus = [&access, principal, cardId](Completion<PinStatus> done) {
        access.pinStatus(principal, cardId, std::nullopt, std::move(done));
    };
    steps.sign = [&access, principal, cardId, pinOptions](SignRequest request, Completion<SignResult> done) {
        access.sign(principal, cardId, std::move(request), pinOptions, std::move(done));
    };
    return steps;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> validationTimeOf(const Request& request)
{
    const std::string_view target = request.target;
    const std::size_t question = target.find('?');
    if (question == std::string_view::npos) return std::nullopt;
    std::string_view query = target.substr(question + 1);

    std::optional<std::chrono::system_clock::time_point> at;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const std::size_t equals = pair.find('=');
        if (pair.substr(0, equals) != kAtParameter) continue;  // other parameters are ignored
        if (at) throw Error(ErrorCode::BadRequest, "query parameter 'at' given more than once");
        const auto value = equals == std::string_view::npos ? std::nullopt : decodePathSegment(pair.substr(equals + 1));
        const auto parsed = value ? service::parseRfc3339(*value) : std::nullopt;
        if (!parsed) {
            // The value is not echoed: it is the caller's text.
            throw Error(ErrorCode::BadRequest,
                        "query parameter 'at' must be an RFC 3339 date-time with an offset, e.g. 2026-04-01T09:00:00+09:00");
        }
        at = *parsed;
    }
    return at;
}

void registerCertificateRoutes(Router& router, security::CardAccess& access, const CertificateServices& services)
{
    if (!services.checker) return;
    service::CertificateChecker& checker = *services.checker;

    router.add("GET", "/v1/cards/{cardId}/certificates/{certId}/validation",
               [&access, &checker](const RequestContext& context, Respond respond) {
                   const auto at = validationTimeOf(context.request);  // refused before any card access
                   const std::string cardId = context.params.at(0);
                   const std::string certId = context.params.at(1);
                   // The card's other certificates (the reference card's issuer
                   // in EF C002) are offered as untrusted intermediates.
                   access.card(principalOf(context.caller), cardId, [&checker, cardId, certId, at, respond = std::move(respond)](Outcome<CardSummary> outcome) mutable {
                       if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
                           respond(problemResponse(*failure));
                           return;
                       }
                       const CardSummary& card = std::get<CardSummary>(outcome);
                       const CertificateSummary* target = nullptr;
                       std::vector<Bytes> others;
                       for (const auto& certificate : card.certificates) {
                           if (certificate.id == certId) target = &certificate;
                           else others.push_back(certificate.der);
                       }
                       if (!target) {
                           respond(problemResponse(Error(ErrorCode::NotFound, "the card has no certificate with this id")));
                           return;
                       }
                       try {
                           (void)cert::parseCertificate(target->der);
                       } catch (const std::exception&) {
                           respond(problemResponse(Error(ErrorCode::CardError, "the certificate on the card cannot be parsed")));
                           return;
                       }
                       checker.validate(target->der, std::move(others), at,
                                        answer<service::CertificateValidation>(
                                            std::move(respond), [cardId, certId](const service::CertificateValidation& v) {
                                                Json json{{"cardId", cardId}, {"certificateId", certId}};
                                                json.update(toJson(v));
                                                return jsonResponse(json);
                                            }));
                   });
               });

    router.add("POST", "/v1/cards/{cardId}/selftest", [&access, &checker, audited = services.audited](const RequestContext& context, Respond respond) {
        SelfTestRequest request = selfTestRequestOf(context.request);
        const std::string& cardId = context.params.at(0);
        if (audited) {
            // The intent is durable before the first step reaches the card; the
            // report leaves only once its outcome is recorded.
            audit::RequestInfo info;
            info.requestId = audit::newRequestId();
            auto shared = std::make_shared<SelfTestRequest>(std::move(request));
            auto sharedRespond = std::make_shared<Respond>(std::move(respond));
            const security::Principal principal = principalOf(context.caller);
            audited->around(
                principal, info, cardId, "selftest",
                [&access, &checker, principal, cardId, shared, sharedRespond](audit::AuditedCardAccess::Finish finish) {
                    service::runSelfTest(
                        stepsFor(access, principal, cardId, shared->pinOptions), checker, cardId, std::move(shared->pin),
                        [finish = std::move(finish), sharedRespond](Outcome<service::SelfTestReport> outcome) {
                            std::string result = "ok";
                            if (const auto* failure = std::get_if<std::exception_ptr>(&outcome)) result = audit::resultOf(*failure).outcome;
                            else if (!std::get<service::SelfTestReport>(outcome).passed) result = "FAILED";
                            try {
                                finish(result);
                            } catch (...) {
                                (*sharedRespond)(problemResponse(std::current_exception()));
                                return;
                            }
                            answer<service::SelfTestReport>(std::move(*sharedRespond), [](const service::SelfTestReport& report) {
                                return jsonResponse(toJson(report));
                            })(std::move(outcome));
                        });
                },
                [sharedRespond](std::exception_ptr failure) { (*sharedRespond)(problemResponse(failure)); });
            return;
        }
        service::runSelfTest(stepsFor(access, principalOf(context.caller), cardId, request.pinOptions), checker, cardId,
                             std::move(request.pin),
                             answer<service::SelfTestReport>(std::move(respond), [](const service::SelfTestReport& report) {
                                 return jsonResponse(toJson(report));
                             }));
    });
}

}  // namespace inkan::api
