// `inkan pin status|change|unblock`. The secrets are read by SecretInput
// (terminal without echo, or stdin lines) and sent in a wiped RequestBody.
#include <memory>

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
    const nlohmann::json code = session.api().get(session.cardPath() + "/unblock-code", "reading the unblock code's status…").json;
    session.out() << "Unblock code: " << pinSummary(code)
                  << (flagOf(code, "blocked") ? " — the card must be reissued" : "") << '\n';
    return ExitCode::Ok;
}

/// What `pin change` and `pin unblock` may be told on the command line.
struct PinOptions {
    bool pinpad = false;  // the user types everything on the reader's PIN pad
};

/// A PIN change or unblock: the current value (the PIN or the unblock code),
/// then the new PIN twice.
struct PinReplacement {
    const char* path;          // below the card
    const char* currentField;  // "pin" or "unblockCode"
    const char* currentPrompt;
    const char* onThePad;      // what the user types on the pad, for the note
    const char* progress;
    const char* done;
};

ExitCode replacePin(Session& session, const PinReplacement& what, nlohmann::json fields, const PinOptions& options)
{
    ApiResponse response = [&] {
        if (options.pinpad) {
            fields["pinpad"] = true;
            session.note(std::string("Type ") + what.onThePad + " on the reader's PIN pad.");
            RequestBody body(fields);
            return session.api().post(session.cardPath() + what.path, body, what.progress);
        }
        SecretInput input;
        Secret current = input.ask(what.currentPrompt);
        Secret newPin = input.askNew("New PIN: ", "New PIN again: ");
        RequestBody body(fields, {{what.currentField, current}, {"newPin", newPin}});
        return session.api().post(session.cardPath() + what.path, body, what.progress);
    }();
    printPinResult(session, response, what.done);
    return ExitCode::Ok;
}

ExitCode changePin(Session& session, const PinOptions& options)
{
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, "the PIN change");
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    return replacePin(session,
                      {"/pin/change", "pin", "Current PIN: ", "the current PIN, then the new PIN twice,",
                       "changing the PIN on the card…", "PIN changed"},
                      std::move(fields), options);
}

ExitCode unblockPin(Session& session, const PinOptions& options)
{
    nlohmann::json pin = session.api().get(session.cardPath() + "/pin", "reading the PIN status…").json;
    if (!flagOf(pin, "blocked")) session.note("The PIN is not blocked (" + pinSummary(pin) + "); unblocking sets a new PIN all the same.");
    const nlohmann::json codeStatus = checkUnblockCodeBeforeSpendingATry(session);
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(codeStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    return replacePin(session,
                      {"/pin/unblock", "unblockCode", "Unblock code: ", "the unblock code, then the new PIN twice,",
                       "unblocking the PIN on the card…", "PIN unblocked and set"},
                      std::move(fields), options);
}

constexpr const char* kSecretsFooter =
    "Secrets are never taken from the command line. On a terminal they are asked without echo;\n"
    "otherwise they are read from stdin, one line each, in the order of the prompts.\n"
    "With --pinpad they are typed on the reader's PIN pad and never reach this computer.";

}  // namespace

void addPinCommands(Commands& commands)
{
    CLI::App& pin = commands.group(commands.root(), "pin", "Show, change or unblock the card's PIN");
    commands.add(pin, "status", "Show how many PIN and unblock code tries are left (spends none)", status);
    auto options = std::make_shared<PinOptions>();
    CLI::App& change = commands.add(pin, "change", "Change the PIN: asks for the current PIN and the new one (twice on a terminal)",
                                    [options](Session& session) { return changePin(session, *options); });
    change.add_flag("--pinpad", options->pinpad, "Type the PINs on the reader's PIN pad");
    change.footer(kSecretsFooter);
    CLI::App& unblock = commands.add(pin, "unblock",
                                     "Set a new PIN with the unblock code: asks for the code and the new PIN (twice on a terminal)",
                                     [options](Session& session) { return unblockPin(session, *options); });
    unblock.add_flag("--pinpad", options->pinpad, "Type the unblock code and the new PIN on the reader's PIN pad");
    unblock.footer(kSecretsFooter);
}

}  // namespace inkan::cli
