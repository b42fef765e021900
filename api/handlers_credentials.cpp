#include "api/handlers_credentials.hpp"

#include "api/json_certificates.hpp"
#include "api/json_mapping.hpp"
#include "daemon/base64.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

namespace {

void requireLocalClient(const Caller& caller)
{
    if (caller.kind != Caller::Kind::LocalClient) {
        throw Error(ErrorCode::OriginForbidden,
                    "credentials are imported and removed only by the local client (`inkan import`), never by a web page");
    }
}

}  // namespace

void registerCredentialRoutes(Router& router, credentials::FileCredentials& files, const ExpiryPolicy& expiry)
{
    // The file and its password; the file is kept as it is (still encrypted).
    router.add("POST", "/v1/credentials", [&files, expiry](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        const JsonBody body = JsonBody::parse(context.request.body);
        const auto file = base64Decode(body.requiredString("pkcs12"));
        if (!file) throw Error(ErrorCode::BadRequest, "field 'pkcs12' must be standard base64 with padding");
        const auto password = body.optionalSecret("password");
        if (!password) throw Error(ErrorCode::BadRequest, "field 'password' is required");
        const auto imported = files.importFile(*file, *password);
        Json warnings = Json::array();
        for (const auto& warning : imported.warnings) warnings.push_back(warning);
        respond(jsonResponse(Json{{"card", cardJson(imported.card, expiry)}, {"warnings", std::move(warnings)}}, 201));
    });

    router.add("DELETE", "/v1/credentials/{cardId}", [&files](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        files.remove(context.params.at(0));
        respond(jsonResponse(Json{{"removed", context.params.at(0)}}));
    });
}

}  // namespace inkan::api
