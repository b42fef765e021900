// `inkan pin status|change|unblock`. The secrets are read by SecretInput
// (terminal without echo, or stdin lines) and sent in a wiped RequestBody.
#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/secret_input.hpp"

namespace inkan::cli {
namespace {

void printPinResult(Session& session, const ApiResponse& response, const std::string& done)
{
    if (session.json()) {
        session.printJson(response);
    } else {
        session.out() << done << " (" << pinSummary(response.json) << ")\n";
    }
}

ExitCode status(Session& session)
{
    ApiResponse response = session.api().get(session.cardPath() + "/pin", "reading the PIN status…");
    if (session.json()) {
        session.printJson(response);
        return ExitCode::Ok;
    }
    if (flagOf(response.json, "blocked")) {
        session.out() << "PIN: blocked — unblock it with `inkan pin unblock` (needs the unblock code)\n";
    } else {
        session.out() << "PIN: " << pinSummary(response.json) << '\n';
    }
    return ExitCode::Ok;
}

ExitCode change(Session& session)
{
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, "the PIN change");
    SecretInput input;
    Secret pin = input.ask("Current PIN: ");
    Secret newPin = input.askNew("New PIN: ", "New PIN again: ");
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    RequestBody body(fields, {{"pin", pin}, {"newPin", newPin}});
    ApiResponse response = session.api().post(session.cardPath() + "/pin/change", body, "changing the PIN on the card…");
    printPinResult(session, response, "PIN changed");
    return ExitCode::Ok;
}

ExitCode unblock(Session& session)
{
    nlohmann::json pin = session.api().get(session.cardPath() + "/pin", "reading the PIN status…").json;
    if (!flagOf(pin, "blocked")) session.note("The PIN is not blocked (" + pinSummary(pin) + "); unblocking sets a new PIN all the same.");
    SecretInput input;
    Secret unblockCode = input.ask("Unblock code: ");
    Secret newPin = input.askNew("New PIN: ", "New PIN again: ");
    RequestBody body(nlohmann::json::object(), {{"unblockCode", unblockCode}, {"newPin", newPin}});
    ApiResponse response = session.api().post(session.cardPath() + "/pin/unblock", body, "unblocking the PIN on the card…");
    printPinResult(session, response, "PIN unblocked and set");
    return ExitCode::Ok;
}

constexpr const char* kSecretsFooter =
    "Secrets are never taken from the command line. On a terminal they are asked without echo;\n"
    "otherwise they are read from stdin, one line each, in the order of the prompts.";

}  // namespace

void addPinCommands(Commands& commands)
{
    CLI::App& pin = commands.group(commands.root(), "pin", "Show, change or unblock the card's PIN");
    commands.add(pin, "status", "Show how many PIN tries are left (spends none)", status);
    commands.add(pin, "change", "Change the PIN: asks for the current PIN and the new one (twice on a terminal)", change)
        .footer(kSecretsFooter);
    commands.add(pin, "unblock", "Set a new PIN with the unblock code: asks for the code and the new PIN (twice on a terminal)", unblock)
        .footer(kSecretsFooter);
}

}  // namespace inkan::cli
