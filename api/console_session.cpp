#include "api/console_session.hpp"

#include <string>

#include <openssl/crypto.h>

#include "api/json_mapping.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

namespace {

constexpr int kNoContent = 204;

constexpr std::string_view kCodeField = "code";
// Where the console page reads its code: the fragment never reaches a server
// or a Referer, and the page removes it from the address bar at once.
constexpr std::string_view kLoginFragment = "/#login=";
constexpr std::string_view kConsoleHost = "https://127.0.0.1:";

// The cookie's attributes (RFC 6265 §4.1.2, RFC 6265bis §4.1.2.7): only over
// TLS, never readable by a script, never sent with another site's request,
// for every path. No Expires/Max-Age: the browser drops it when it closes,
// and inkand ends the session on its own clock anyway.
constexpr std::string_view kCookieAttributes = "; Secure; HttpOnly; SameSite=Strict; Path=/";
constexpr std::string_view kClearCookie = "; Max-Age=0";

void requireLocalClient(const Caller& caller)
{
    if (caller.kind != Caller::Kind::LocalClient) {
        throw Error(ErrorCode::OriginForbidden,
                    "login codes are given only to the local client (`inkan console`, with the API token), never to a web page");
    }
}

/// "NAME=VALUE; Secure; ..." — the value is wiped from the local copy by the caller's Secret.
std::string sessionCookie(const Gate& gate, std::string_view value)
{
    std::string cookie = gate.sessionCookieName() + "=";
    cookie.append(value);
    cookie.append(kCookieAttributes);
    return cookie;
}

Response noContent()
{
    Response response;
    response.status = kNoContent;
    return response;
}

}  // namespace

void registerConsoleSessionRoutes(Router& router, const Gate& gate)
{
    router.add("POST", "/v1/console/login", [&gate](const RequestContext& context, Respond respond) {
        requireLocalClient(context.caller);
        (void)JsonBody::parse(context.request.body);  // {}
        const security::LoginCode code = gate.consoleSessions().issueCode();
        std::string url = std::string(kConsoleHost) + std::to_string(gate.port()) + std::string(kLoginFragment);
        url.append(code.code.view());
        Json json{{"code", std::string(code.code.view())}, {"url", url}, {"expiresIn", code.expiresIn.count()}};
        OPENSSL_cleanse(url.data(), url.size());
        respond(jsonResponse(json));
    });

    router.add("POST", "/v1/console/session", [&gate](const RequestContext& context, Respond respond) {
        const Caller& caller = context.caller;
        if (caller.kind != Caller::Kind::ConsoleLogin && caller.kind != Caller::Kind::OwnOrigin) {
            throw Error(ErrorCode::OriginForbidden, "a login code is traded only by the console page inkand serves");
        }
        const Secret code = JsonBody::parse(context.request.body).requiredSecret(kCodeField);
        auto session = gate.consoleSessions().redeem(code.view());
        if (!session) {
            throw Error(ErrorCode::Unauthorized,
                        "this login code is unknown, used or expired (a code works once, for 60 seconds): run `inkan console` again");
        }
        // A new login in the same browser replaces the session it had.
        if (caller.kind == Caller::Kind::OwnOrigin) gate.consoleSessions().revoke(caller.session);
        Response response = noContent();
        std::string cookie = sessionCookie(gate, session->value.view());
        response.headers.set("Set-Cookie", cookie);
        OPENSSL_cleanse(cookie.data(), cookie.size());
        respond(std::move(response));
    });

    router.add("DELETE", "/v1/console/session", [&gate](const RequestContext& context, Respond respond) {
        if (context.caller.kind != Caller::Kind::OwnOrigin) {
            throw Error(ErrorCode::BadRequest, "only the console page ends its own session here");
        }
        gate.consoleSessions().revoke(context.caller.session);
        Response response = noContent();
        response.headers.set("Set-Cookie", gate.sessionCookieName() + "=" + std::string(kCookieAttributes) +
                                               std::string(kClearCookie));
        respond(std::move(response));
    });
}

}  // namespace inkan::api
