#include "api/console.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "api/console_assets.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

namespace {

constexpr std::string_view kIndexName = "index.html";
constexpr std::string_view kAssetPrefix = "/console/";

constexpr int kOk = 200;
constexpr int kNotModified = 304;

// What the console page may do, and nothing else (CSP Level 3):
//   * scripts, styles, images and fetch()es only from inkand itself ('self');
//     no inline script or style, no eval, no plug-ins, no <base>, no forms;
//   * never shown inside a frame of another page (frame-ancestors 'none',
//     with X-Frame-Options: DENY from the gate for older browsers), so no
//     page can overlay it to trick a click on "change PIN";
//   * DOM sinks that parse HTML refuse strings (Trusted Types with no
//     policy): the console builds its DOM with textContent only, so data
//     from a card or a certificate can never become markup.
constexpr std::string_view kConsolePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'";

// The files change only with inkand itself: a browser may keep them but must
// ask again (cheaply, with If-None-Match) each time.
constexpr std::string_view kRevalidate = "no-cache";

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

/// If-None-Match (RFC 9110 §13.1.2): "*" or a list of entity tags, compared weakly.
bool matchesIfNoneMatch(std::string_view header, std::string_view etag)
{
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view candidate = trim(header.substr(0, comma));
        if (candidate == "*") return true;
        if (candidate.starts_with("W/")) candidate.remove_prefix(2);
        if (candidate == etag) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

const console::Asset* findAsset(std::string_view name)
{
    const auto all = console::assets();
    const auto found = std::find_if(all.begin(), all.end(), [&](const console::Asset& asset) { return asset.name == name; });
    return found == all.end() ? nullptr : &*found;
}

Response assetResponse(const console::Asset& asset, const Request& request)
{
    Response response;
    response.headers.set("ETag", asset.etag);
    response.headers.set("Cache-Control", kRevalidate);
    response.headers.set("Content-Security-Policy", kConsolePolicy);
    response.headers.set("Referrer-Policy", "no-referrer");
    // Other origins can neither load these files as subresources nor keep a
    // handle on the console's window.
    response.headers.set("Cross-Origin-Resource-Policy", "same-origin");
    response.headers.set("Cross-Origin-Opener-Policy", "same-origin");
    if (const auto ifNoneMatch = request.headers.get("If-None-Match"); ifNoneMatch && matchesIfNoneMatch(*ifNoneMatch, asset.etag)) {
        response.status = kNotModified;
        return response;
    }
    response.status = kOk;
    response.contentType = std::string(asset.contentType);
    response.body = std::string(asset.content);
    return response;
}

void serve(std::string_view name, const RequestContext& context, const Respond& respond)
{
    const console::Asset* asset = findAsset(name);
    // The requested name is not echoed (it is attacker-controlled text).
    if (!asset) throw Error(ErrorCode::NotFound, "no such console file");
    respond(assetResponse(*asset, context.request));
}

}  // namespace

bool isConsolePath(std::string_view path) noexcept
{
    return path == "/" || (path.starts_with(kAssetPrefix) && path.size() > kAssetPrefix.size());
}

void registerConsoleRoutes(Router& router)
{
    router.add("GET", "/", [](const RequestContext& context, Respond respond) { serve(kIndexName, context, respond); });
    router.add("GET", "/console/{file}", [](const RequestContext& context, Respond respond) {
        serve(context.params.at(0), context, respond);
    });
    // The directories of the embedded files (the SDK's modules: "sdk/", "sdk/generated/"):
    // one route each, so that a name is only ever looked up in the table, never walked.
    std::set<std::string> directories;
    for (const console::Asset& asset : console::assets()) {
        if (const std::size_t slash = asset.name.rfind('/'); slash != std::string_view::npos) {
            directories.emplace(asset.name.substr(0, slash + 1));
        }
    }
    for (const std::string& directory : directories) {
        router.add("GET", std::string(kAssetPrefix) + directory + "{file}", [directory](const RequestContext& context, Respond respond) {
            serve(directory + context.params.at(0), context, respond);
        });
    }
}

}  // namespace inkan::api
