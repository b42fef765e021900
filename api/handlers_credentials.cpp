#include "api/handlers_credentials.hpp"

#include "api/json_certificates.hpp"
#include "api/json_mapping.hpp"
#include "api/recorded.hpp"
#include "daemon/base64.hpp"
#include "daemon/error.hpp"
#include "daemon/hex.hpp"

#include <openssl/sha.h>

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

void registerCredentialRoutes(Router& router, credentials::FileCredentials& files, const ExpiryPolicy& expiry,
                              audit::Ledger* ledger)
{
    // The file and its password; the file is kept as it is (still encrypted).
    router.add("POST", "/v1/credentials", [&files, expiry, ledger](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        const JsonBody body = JsonBody::parse(context.request.body);
        const auto file = base64Decode(body.requiredString("pkcs12"));
        if (!file) throw Error(ErrorCode::BadRequest, "field 'pkcs12' must be standard base64 with padding");
        const auto password = body.optionalSecret("password");
        if (!password) throw Error(ErrorCode::BadRequest, "field 'password' is required");
        Bytes fileDigest(SHA256_DIGEST_LENGTH);
        SHA256(file->data(), file->size(), fileDigest.data());
        audit::Entry entry;
        entry.operation = "credential.import";
        entry.credential.kind = "file";
        entry.target = "pkcs12 size=" + std::to_string(file->size()) + " sha256=" + hexEncode(fileDigest);
        const auto imported = recorded(ledger, std::move(entry), [&] { return files.importFile(*file, *password); },
                                       [](audit::Result& result, const credentials::ImportResult& value) {
                                           result.credential = audit::credentialOf(value.card, value.card.signingCertificateId);
                                       });
        Json warnings = Json::array();
        for (const auto& warning : imported.warnings) warnings.push_back(warning);
        respond(jsonResponse(Json{{"card", cardJson(imported.card, expiry)}, {"warnings", std::move(warnings)}}, 201));
    });

    router.add("DELETE", "/v1/credentials/{cardId}", [&files, ledger](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        audit::Entry entry;
        entry.operation = "credential.remove";
        entry.credential.cardId = context.params.at(0);
        entry.credential.kind = "file";
        recorded(ledger, std::move(entry), [&] {
            files.remove(context.params.at(0));
            return true;
        }, [](audit::Result&, bool) {});
        respond(jsonResponse(Json{{"removed", context.params.at(0)}}));
    });
}

}  // namespace inkan::api
