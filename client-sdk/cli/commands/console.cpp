// `inkan console`: open the local console, logged in (docs/security.md "The
// console logs in"). inkand's own web page has no standing by itself; this
// command, holding the API token, asks inkand for a one-time login code and
// opens https://127.0.0.1:PORT/#login=CODE in the browser (xdg-open, when a
// display is there), or prints that address to open by hand. The page trades
// the code for a session cookie; the code works once, within a minute.
#include <chrono>
#include <cstdlib>
#include <memory>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/process.hpp"
#include "client-sdk/cli/request_body.hpp"

namespace inkan::cli {
namespace {

constexpr const char* kOpener = "xdg-open";  // freedesktop.org xdg-utils
// How long xdg-open may take to say it could not open anything.
constexpr std::chrono::milliseconds kOpenerGrace{3000};

bool hasDisplay()
{
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY"}) {
        const char* value = std::getenv(name);
        if (value && *value) return true;
    }
    return false;
}

}  // namespace

void addConsoleCommand(Commands& commands)
{
    auto printOnly = std::make_shared<bool>(false);
    CLI::App& command = commands.add(
        commands.root(), "console", "Open the local console in the browser, logged in (or print its one-time address)",
        [printOnly](Session& session) {
            const RequestBody body(nlohmann::json::object());
            ApiResponse response = session.api().post("/console/login", body);
            if (session.json()) {
                session.printJson(response);
                return ExitCode::Ok;
            }
            const std::string url = textOf(response.json, "url");
            const long long seconds = numberOf(response.json, "expiresIn").value_or(60);
            if (!*printOnly && hasDisplay() && onPath(kOpener) && startDetached({kOpener, url}, kOpenerGrace)) {
                session.note("opened the console in your browser; the login in its address works once, within " +
                             std::to_string(seconds) + " seconds");
                return ExitCode::Ok;
            }
            if (!*printOnly) session.note("no browser to open here: open this address yourself");
            session.out() << url << '\n';
            session.note("the address logs the console in once, within " + std::to_string(seconds) +
                         " seconds; run `inkan console` again for a new one");
            return ExitCode::Ok;
        });
    command.add_flag("--print", *printOnly, "Only print the address, do not start a browser");
}

}  // namespace inkan::cli
