// inkan — the local console: inkand's own web page at https://127.0.0.1:PORT/
// (console/ at the repository root; docs/console.md). Serves the embedded
// files; the page talks to the /v1 API like any client, as inkand's own origin.
#pragma once

#include <string_view>

#include "api/router.hpp"

namespace inkan::api {

/// Register GET / (the console page) and GET /console/{file} (its assets).
void registerConsoleRoutes(Router& router);

/// Whether `path` is one of the console's pages or assets, which the gate
/// serves without the token: they hold no secret, and a browser cannot send
/// the token with a navigation.
bool isConsolePath(std::string_view path) noexcept;

}  // namespace inkan::api
