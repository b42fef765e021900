// inkan — the command-line client of inkand's HTTPS API.
//
// It knows no APDU and no PC/SC: every card operation is a request to inkand
// on https://127.0.0.1:<port>/v1. This file wires the commands to CLI11 and is
// the one place where failures become messages and exit codes.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/curl_handles.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/problem.hpp"
#include "inkan/version.hpp"

namespace {

using inkan::cli::ExitCode;
using inkan::cli::toInt;

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  usage: bad arguments, new PINs that differ, several cards and no --card\n"
    "  2  inkand not reachable: not running, TLS not trusted, no token or CA in the state directory\n"
    "  3  inkand answered with an error (its code and detail are printed)\n"
    "  4  PIN refused: wrong PIN or unblock code, the PIN is blocked, or inkand's PIN guard refused a try\n"
    "  5  local failure: a file, certutil or update-ca-certificates\n"
    "  6  check failed: `cert verify` found the certificate not valid, revoked or suspended; a `selftest` check failed\n"
    "  7  check inconclusive: `cert verify` had no verified revocation evidence (verdict unknown)";

void report(const std::string& message, const std::string& hint)
{
    std::cerr << "inkan: " << message << '\n';
    if (!hint.empty()) std::cerr << "  " << hint << '\n';
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"inkan — sign with the corporate IC card through inkand, the local signing agent", "inkan"};
    app.set_version_flag("--version", std::string("inkan ") + inkan::kVersion);
    app.require_subcommand(1);
    app.fallthrough();  // global options are accepted after the command too
    app.footer(kExitCodesHelp);

    inkan::cli::GlobalOptions globals;
    app.add_option("--port", globals.port, "inkand's port on 127.0.0.1")->check(CLI::Range(1, 65535))->capture_default_str();
    app.add_option("--state-dir", globals.stateDir,
                   "inkand's state directory (token, tls/ca.pem); default $INKAN_STATE_DIR, "
                   "$XDG_STATE_HOME/inkan or ~/.local/state/inkan");
    app.add_flag("--json", globals.json, "Print the API's JSON answer as is instead of text");
    app.add_option("--card", globals.card, "The card to use (`inkan cards` lists them); default: the only card present");

    inkan::cli::Commands commands(app);
    inkan::cli::registerAllCommands(commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Help and version are "errors" to CLI11 that exit 0; everything else is a usage error.
        int code = app.exit(e);
        return code == 0 ? toInt(ExitCode::Ok) : toInt(ExitCode::Usage);
    }

    inkan::cli::Session session(globals);
    try {
        inkan::cli::CurlGlobal curl;
        return toInt(commands.run(session));
    } catch (const inkan::cli::ApiProblem& e) {
        const inkan::cli::Problem& problem = e.problem();
        if (session.json()) {
            std::cout << problem.body;
            if (problem.body.empty() || problem.body.back() != '\n') std::cout << '\n';
        }
        report(describe(problem), hintFor(problem));
        return toInt(exitCodeFor(problem));
    } catch (const inkan::cli::Failure& e) {
        report(e.what(), e.hint());
        return toInt(e.code());
    } catch (const nlohmann::json::exception& e) {
        report(std::string("inkand's answer has an unexpected shape: ") + e.what(), {});
        return toInt(ExitCode::ApiError);
    } catch (const std::exception& e) {
        report(e.what(), {});
        return toInt(ExitCode::LocalIo);
    }
}
