// inkan — the console's static files (console/ at the repository root) and
// the modules of the browser SDK it imports (client-sdk/js/dist, as sdk/...),
// embedded into the binary at build time by console/embed_assets.cmake, so
// that inkand serves exactly the files it was built with and reads nothing
// from disk at run time.
#pragma once

#include <span>
#include <string_view>

namespace inkan::console {

struct Asset {
    std::string_view name;         // file name in console/, e.g. "app.js", or "sdk/" and the SDK module's path in dist/
    std::string_view contentType;  // e.g. "text/javascript; charset=utf-8"
    std::string_view etag;         // strong entity tag (RFC 9110 §8.8.3), quoted: a digest of the content
    std::string_view content;
};

/// Every embedded file. Defined in the generated console_assets.cpp.
std::span<const Asset> assets() noexcept;

}  // namespace inkan::console
