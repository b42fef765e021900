// `inkan pin status|verify|change|unblock [--pin ID]`: a card may have several
// PINs (the My Number card: `sign` and `auth`), each with its own counter,
// format and unblock rule; without --pin the command is about the card's
// default PIN (`pin status`: about every PIN). The secrets are read by
// SecretInput (terminal without echo, or stdin lines) and sent in a wiped
// RequestBody.
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/secret_input.hpp"

namespace inkan::cli {
namespace {

/// What the PIN commands may be told on the command line.
struct PinOptions {
    std::string pinId;    // --pin; empty: the card's default PIN
    bool pinpad = false;  // the user types everything on the reader's PIN pad

    std::optional<std::string> pin() const { return pinId.empty() ? std::nullopt : std::optional<std::string>(pinId); }
};

void printPinResult(Session& session, const ApiResponse& response, const std::string& done)
{
    if (session.json()) {
        session.printJson(response);
    } else {
        session.out() << done << " (" << pinSummary(response.json) << ")\n";
    }
}

/// "PIN: …" on a one-PIN card, "PIN sign (署名用パスワード): …" otherwise, then
/// its format and who can unblock it.
void printPin(Session& session, const CardPin& pin, const nlohmann::json& status)
{
    const std::string heading = pin.onlyPin ? "PIN" : "PIN " + pin.id + (pin.label.empty() ? "" : " (" + pin.label + ")");
    if (flagOf(status, "blocked")) {
        session.out() << heading << ": blocked — "
                      << (pin.unblockable ? "unblock it with `inkan pin unblock" + std::string(pin.onlyPin ? "" : " --pin " + pin.id)
                                                + "` (needs the unblock code)"
                                          : "the card cannot unblock it; " + pin.issuerReset())
                      << '\n';
    } else {
        session.out() << heading << ": " << pinSummary(status) << '\n';
    }
    const std::string format = formatSummary(objectOf(pin.listed, "format"));
    if (!format.empty()) session.out() << "  format:  " << format << '\n';
    session.out() << "  unblock: "
                  << (pin.unblockable ? "with the card's unblock code" : "not on the card — " + pin.issuerReset()) << '\n';
}

ExitCode status(Session& session, const PinOptions& options)
{
    if (session.json()) {
        // The API's answer: the default PIN's status (GET …/pin), or the PIN named.
        const std::string path = options.pin() ? "/pins/" + options.pinId : "/pin";
        session.printJson(session.api().get(session.cardPath() + path, "reading the PIN status…"));
        return ExitCode::Ok;
    }
    const std::vector<CardPin> pins = options.pin() ? std::vector<CardPin>{cardPin(session, options.pin())} : cardPins(session);
    for (const CardPin& pin : pins) {
        // Each counter read from the card (no try spent).
        const nlohmann::json status = session.api().get(session.cardPath() + "/pins/" + pin.id, "reading the PIN status…").json;
        printPin(session, pin, status);
        if (pin.isDefault && pin.unblockable) {
            const nlohmann::json code = session.api().get(session.cardPath() + "/unblock-code", "reading the unblock code's status…").json;
            session.out() << "Unblock code: " << pinSummary(code) << (flagOf(code, "blocked") ? " — the card must be reissued" : "")
                          << '\n';
        }
    }
    return ExitCode::Ok;
}

ExitCode verifyPin(Session& session, const PinOptions& options)
{
    const CardPin pin = cardPin(session, options.pin());
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, pin, "the verification");
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    ApiResponse response = forPin(pin, [&] {
        if (options.pinpad) {
            fields["pinpad"] = true;
            session.note("Type " + pin.name() + " on the reader's PIN pad.");
            RequestBody body(fields);
            return session.api().post(session.cardPath() + pin.path() + "/verify", body, "verifying the PIN on the card…");
        }
        SecretInput input;
        Secret value = input.ask(pin.onlyPin ? "PIN: " : "PIN " + pin.id + ": ");
        RequestBody body(fields, {{"pin", value}});
        return session.api().post(session.cardPath() + pin.path() + "/verify", body, "verifying the PIN on the card…");
    });
    printPinResult(session, response, "PIN verified");
    return ExitCode::Ok;
}

/// A PIN change or unblock: the current value (the PIN or the unblock code),
/// then the new PIN twice.
struct PinReplacement {
    const char* operation;     // "/change" or "/unblock", below the PIN's path
    const char* currentField;  // "pin" or "unblockCode"
    const char* currentPrompt;
    const char* onThePad;      // what the user types on the pad, for the note
    const char* progress;
    const char* done;
};

ExitCode replacePin(Session& session, const CardPin& pin, const PinReplacement& what, nlohmann::json fields,
                    const PinOptions& options)
{
    const std::string path = session.cardPath() + pin.path() + what.operation;
    ApiResponse response = forPin(pin, [&] {
        if (options.pinpad) {
            fields["pinpad"] = true;
            session.note(std::string("Type ") + what.onThePad + " on the reader's PIN pad.");
            RequestBody body(fields);
            return session.api().post(path, body, what.progress);
        }
        SecretInput input;
        Secret current = input.ask(what.currentPrompt);
        Secret newPin = input.askNew("New PIN: ", "New PIN again: ");
        RequestBody body(fields, {{what.currentField, current}, {"newPin", newPin}});
        return session.api().post(path, body, what.progress);
    });
    printPinResult(session, response, what.done);
    return ExitCode::Ok;
}

ExitCode changePin(Session& session, const PinOptions& options)
{
    const CardPin pin = cardPin(session, options.pin());
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, pin, "the PIN change");
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    return replacePin(session, pin,
                      {"/change", "pin", "Current PIN: ", "the current PIN, then the new PIN twice,",
                       "changing the PIN on the card…", "PIN changed"},
                      std::move(fields), options);
}

ExitCode unblockPin(Session& session, const PinOptions& options)
{
    const CardPin pin = cardPin(session, options.pin());
    if (!pin.unblockable) {
        // Said before any secret is asked for; inkand would answer the same (nothing reaches the card).
        nlohmann::json document = {{"type", "urn:inkan:problem:unsupported-operation"},
                                   {"title", "Unsupported operation"},
                                   {"status", 409},
                                   {"code", "UNSUPPORTED_OPERATION"},
                                   {"detail", "the card cannot unblock " + pin.name() + ": " + pin.issuerReset()}};
        throw ApiProblem(Problem::fromResponse(409, document.dump()));
    }
    nlohmann::json status = session.api().get(session.cardPath() + "/pins/" + pin.id, "reading the PIN status…").json;
    if (!flagOf(status, "blocked")) {
        session.note("The PIN is not blocked (" + pinSummary(status) + "); unblocking sets a new PIN all the same.");
    }
    const nlohmann::json codeStatus = checkUnblockCodeBeforeSpendingATry(session);
    nlohmann::json fields = nlohmann::json::object();
    if (fewTriesLeft(codeStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question
    return replacePin(session, pin,
                      {"/unblock", "unblockCode", "Unblock code: ", "the unblock code, then the new PIN twice,",
                       "unblocking the PIN on the card…", "PIN unblocked and set"},
                      std::move(fields), options);
}

constexpr const char* kSecretsFooter =
    "Secrets are never taken from the command line. On a terminal they are asked without echo;\n"
    "otherwise they are read from stdin, one line each, in the order of the prompts.\n"
    "With --pinpad they are typed on the reader's PIN pad and never reach this computer.";

/// --pin takes a PIN's id (lower-case letters, digits and '-', from a letter:
/// `user`, `sign`, `auth`), never its value: a value typed there (digits, or the
/// upper-case My Number card passwords) is a usage error before anything runs.
CLI::Validator pinIdValidator()
{
    return CLI::Validator(
        [](std::string& value) -> std::string {
            const bool starts = !value.empty() && value[0] >= 'a' && value[0] <= 'z';
            const bool rest = std::all_of(value.begin(), value.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
            if (starts && rest) return {};
            return "it names one of the card's PINs (e.g. sign, auth, user); a PIN itself is never taken "
                   "from the command line";
        },
        "PIN-ID");
}

constexpr const char* kPinOptionHelp =
    "Which of the card's PINs (`inkan pin status` lists them: `user` on the reference card, "
    "`sign` or `auth` on the My Number card); default the card's default PIN";

}  // namespace

void addPinCommands(Commands& commands)
{
    CLI::App& pin = commands.group(commands.root(), "pin", "Show, verify, change or unblock the card's PINs");
    auto statusOptions = std::make_shared<PinOptions>();
    CLI::App& statusCommand = commands.add(pin, "status",
                                    "Show every PIN of the card (tries left, format, whether the card can unblock it; spends no try)",
                                    [statusOptions](Session& session) { return status(session, *statusOptions); });
    statusCommand.add_option("--pin", statusOptions->pinId, "Show only this PIN (`sign`, `auth`, `user` …)")->check(pinIdValidator());
    statusCommand.footer("With --json: the default PIN's status as the API answers it (GET …/pin), or with --pin\n"
                  "that PIN (GET …/pins/ID). A PIN the card cannot unblock (the My Number card's) is reset\n"
                  "only by the card's issuer — for the My Number card, the municipal office.");

    auto verifyOptions = std::make_shared<PinOptions>();
    CLI::App& verify = commands.add(pin, "verify", "Check a PIN on the card: asks for it (a wrong one spends a try)",
                                    [verifyOptions](Session& session) { return verifyPin(session, *verifyOptions); });
    verify.add_option("--pin", verifyOptions->pinId, kPinOptionHelp)->check(pinIdValidator());
    verify.add_flag("--pinpad", verifyOptions->pinpad, "Type the PIN on the reader's PIN pad");
    verify.footer(kSecretsFooter);

    auto changeOptions = std::make_shared<PinOptions>();
    CLI::App& change = commands.add(pin, "change", "Change a PIN: asks for the current PIN and the new one (twice on a terminal)",
                                    [changeOptions](Session& session) { return changePin(session, *changeOptions); });
    change.add_option("--pin", changeOptions->pinId, kPinOptionHelp)->check(pinIdValidator());
    change.add_flag("--pinpad", changeOptions->pinpad, "Type the PINs on the reader's PIN pad");
    change.footer(kSecretsFooter);

    auto unblockOptions = std::make_shared<PinOptions>();
    CLI::App& unblock = commands.add(pin, "unblock",
                                     "Set a new PIN with the unblock code: asks for the code and the new PIN (twice on a terminal)",
                                     [unblockOptions](Session& session) { return unblockPin(session, *unblockOptions); });
    unblock.add_option("--pin", unblockOptions->pinId, kPinOptionHelp)->check(pinIdValidator());
    unblock.add_flag("--pinpad", unblockOptions->pinpad, "Type the unblock code and the new PIN on the reader's PIN pad");
    unblock.footer(std::string(kSecretsFooter)
                   + "\nA PIN the card cannot unblock (the My Number card's PINs) is refused before anything is asked:\n"
                     "only the card's issuer resets it (for the My Number card, the municipal office).");
}

}  // namespace inkan::cli
