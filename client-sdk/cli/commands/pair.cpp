// `inkan pair list|approve|deny|revoke`: the user's side of pairing
// (docs/security.md "Pairing"). A web page asks inkand for access and shows a
// code; here, out of the page's reach, the user sees the origin and the code
// and decides. inkand accepts these requests only from a local client (the
// API token, no Origin header), so no page can approve itself.
#include <iostream>
#include <memory>
#include <sstream>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/terminal.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/timestamps.hpp"

namespace inkan::cli {
namespace {

// The operations inkand knows (docs/security.md "Operations").
const std::vector<std::string> kOperations = {"read", "sign", "pin"};

std::string joined(const nlohmann::json& list, const std::string& empty)
{
    std::string text;
    for (const auto& item : list) {
        if (!item.is_string()) continue;
        if (!text.empty()) text += ",";
        text += item.get<std::string>();
    }
    return text.empty() ? empty : text;
}

/// "read,sign" (as typed) -> ["read","sign"]; Failure(Usage) for anything else.
nlohmann::json operationsFrom(const std::string& typed)
{
    nlohmann::json operations = nlohmann::json::array();
    std::stringstream parts(typed);
    std::string part;
    while (std::getline(parts, part, ',')) {
        if (part.empty()) continue;
        if (std::find(kOperations.begin(), kOperations.end(), part) == kOperations.end()) {
            throw Failure(ExitCode::Usage, "unknown operation \"" + part + "\" in --allow", "use read, sign and pin, e.g. --allow read,sign");
        }
        if (std::find(operations.begin(), operations.end(), part) == operations.end()) operations.push_back(part);
    }
    if (operations.empty()) throw Failure(ExitCode::Usage, "--allow names no operation", "e.g. --allow read,sign");
    return operations;
}

nlohmann::json pendingPairings(Session& session)
{
    return arrayOf(session.api().get("/pairings").json, "pending");
}

/// The pending pairing the user means: by id, or the only one.
nlohmann::json choosePending(Session& session, const std::string& id)
{
    const nlohmann::json pending = pendingPairings(session);
    if (!id.empty()) {
        for (const auto& pairing : pending) {
            if (textOf(pairing, "id") == id) return pairing;
        }
        throw Failure(ExitCode::ApiError, "no pending pairing with id " + id, "`inkan pair list` shows the pending ones; they expire after 5 minutes");
    }
    if (pending.empty()) {
        throw Failure(ExitCode::ApiError, "no pairing is waiting for approval", "let the web page ask first; `inkan pair list` shows what is waiting");
    }
    if (pending.size() > 1) {
        std::string list;
        for (const auto& pairing : pending) {
            list += "\n  " + textOf(pairing, "id") + "  " + textOf(pairing, "origin") + "  code " + textOf(pairing, "code");
        }
        throw Failure(ExitCode::Usage, "several pairings are waiting; name one:" + list);
    }
    return pending.front();
}

void printPairing(Session& session, const ApiResponse& response, const std::string& done)
{
    if (session.json()) {
        session.printJson(response);
        return;
    }
    session.out() << done << ": " << textOf(response.json, "origin");
    if (response.json.contains("operations")) {
        session.out() << " may " << joined(arrayOf(response.json, "operations"), "nothing") << " on "
                      << (response.json.contains("cards") ? "cards " + joined(arrayOf(response.json, "cards"), "") : "every card");
    }
    session.out() << '\n';
}

ExitCode list(Session& session)
{
    ApiResponse response = session.api().get("/pairings");
    if (session.json()) {
        session.printJson(response);
        return ExitCode::Ok;
    }
    const nlohmann::json& pending = arrayOf(response.json, "pending");
    const nlohmann::json& paired = arrayOf(response.json, "paired");
    const nlohmann::json& allowlisted = arrayOf(response.json, "allowlisted");
    if (pending.empty()) {
        session.out() << "No pairing is waiting for approval.\n";
    } else {
        session.out() << "Waiting for approval (`inkan pair approve ID` once the page shows the same code):\n";
        TextTable table({"ID", "ORIGIN", "CODE", "EXPIRES"});
        for (const auto& pairing : pending) {
            table.addRow({textOf(pairing, "id"), textOf(pairing, "origin"), textOf(pairing, "code"), textOf(pairing, "expiresAt")});
        }
        table.print(session.out());
    }
    session.out() << '\n';
    if (paired.empty()) {
        session.out() << "No origin is paired.\n";
    } else {
        session.out() << "Paired (`inkan pair revoke ORIGIN` to forget one):\n";
        TextTable table({"ORIGIN", "MAY", "CARDS", "SINCE"});
        for (const auto& entry : paired) {
            table.addRow({textOf(entry, "origin"), joined(arrayOf(entry, "operations"), "-"),
                          entry.contains("cards") ? joined(arrayOf(entry, "cards"), "-") : "all", textOf(entry, "approvedAt")});
        }
        table.print(session.out());
    }
    if (!allowlisted.empty()) {
        session.out() << "\nAllowed by inkand's configuration:\n";
        TextTable table({"ORIGIN", "MAY", "CARDS"});
        for (const auto& entry : allowlisted) {
            table.addRow({textOf(entry, "origin"), joined(arrayOf(entry, "operations"), "-"),
                          entry.contains("cards") ? joined(arrayOf(entry, "cards"), "-") : "all"});
        }
        table.print(session.out());
    }
    return ExitCode::Ok;
}

struct ApproveOptions {
    std::string id;
    std::string code;
    std::string allow;
    std::vector<std::string> cards;
    bool yes = false;
};

ExitCode approve(Session& session, const ApproveOptions& options)
{
    const nlohmann::json pairing = choosePending(session, options.id);
    const std::string id = textOf(pairing, "id");
    const std::string origin = textOf(pairing, "origin");
    nlohmann::json fields = {{"operations", options.allow.empty() ? nlohmann::json::array({"read", "sign"}) : operationsFrom(options.allow)}};
    if (!options.cards.empty()) fields["cards"] = options.cards;

    std::string code = options.code;
    if (code.empty()) {
        // Without --code the user compares: the code here must be the one the page shows.
        if (!stdinIsTerminal()) {
            throw Failure(ExitCode::Usage, "pass --code with the code the web page shows",
                          "or run `inkan pair approve` on a terminal to compare the codes there");
        }
        std::cerr << "The web page at\n  " << origin << "\nasks to use the card through inkand ("
                  << joined(fields["operations"], "") << (options.cards.empty() ? ", every card" : ", cards " + joined(fields["cards"], ""))
                  << ").\nIt must show the code  " << textOf(pairing, "code") << "\n";
        if (!askYes("Is this the page you opened, showing that code? Allow it?")) {
            session.note("Not approved; the pairing is still waiting (it expires after 5 minutes). `inkan pair deny " + id + "` refuses it.");
            return ExitCode::Usage;
        }
        code = textOf(pairing, "code");
    } else if (stdinIsTerminal() && !options.yes) {
        if (!askYes("Allow " + origin + " to " + joined(fields["operations"], "") + "?")) {
            session.note("Not approved.");
            return ExitCode::Usage;
        }
    }
    fields["code"] = code;
    const RequestBody body(fields);
    ApiResponse response = session.api().post("/pairings/" + pathSegment(id) + "/approve", body);
    printPairing(session, response, "Approved");
    return ExitCode::Ok;
}

ExitCode deny(Session& session, const std::string& id)
{
    const RequestBody body(nlohmann::json::object());
    ApiResponse response = session.api().post("/pairings/" + pathSegment(id) + "/deny", body);
    if (session.json()) {
        session.printJson(response);
    } else {
        session.out() << "Denied: " << textOf(response.json, "origin") << '\n';
    }
    return ExitCode::Ok;
}

ExitCode revoke(Session& session, const std::string& origin)
{
    session.api().remove("/pairings/" + pathSegment(origin));
    if (session.json()) {
        session.out() << nlohmann::json{{"origin", origin}, {"revoked", true}}.dump() << '\n';
    } else {
        session.out() << "Revoked: " << origin << " may no longer use the card\n";
    }
    return ExitCode::Ok;
}

}  // namespace

bool askYes(const std::string& question)
{
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}


void addPairCommands(Commands& commands)
{
    CLI::App& pair = commands.group(commands.root(), "pair", "Approve, list and revoke the web pages that may use the card");
    commands.add(pair, "list", "List pairings waiting for approval, paired origins and allowed origins", list);

    auto approveOptions = std::make_shared<ApproveOptions>();
    CLI::App& approveCommand = commands.add(pair, "approve", "Let a web page that asked use the card (compare the code it shows)",
                                            [approveOptions](Session& session) { return approve(session, *approveOptions); });
    approveCommand.add_option("ID", approveOptions->id, "The pairing (default: the only one waiting)");
    approveCommand.add_option("--code", approveOptions->code, "The code the web page shows, e.g. \"123 456\"");
    approveCommand.add_option("--allow", approveOptions->allow, "What the page may do: read, sign, pin (default read,sign)");
    approveCommand.add_option("--card", approveOptions->cards, "Only this card (repeatable; default: every card)");
    approveCommand.add_flag("-y,--yes", approveOptions->yes, "Do not ask for confirmation when --code is given");
    approveCommand.footer(
        "On a terminal without --code, inkan shows the origin and the code inkand gave the page and asks\n"
        "whether the page shows the same; otherwise pass the code the page shows with --code.");

    auto denyId = std::make_shared<std::string>();
    commands.add(pair, "deny", "Refuse a web page that asked", [denyId](Session& session) { return deny(session, *denyId); })
        .add_option("ID", *denyId, "The pairing (`inkan pair list`)")
        ->required();

    auto revokeOrigin = std::make_shared<std::string>();
    commands.add(pair, "revoke", "Forget a paired origin: its pages may no longer use the card",
                 [revokeOrigin](Session& session) { return revoke(session, *revokeOrigin); })
        .add_option("ORIGIN", *revokeOrigin, "e.g. https://portal.example.jp")
        ->required();
}

}  // namespace inkan::cli
