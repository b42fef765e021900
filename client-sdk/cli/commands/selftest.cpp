// `inkan selftest [--with-pin]`: the card's self-test (動作確認), one line per check.
#include <memory>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/secret_input.hpp"
#include "client-sdk/cli/text_table.hpp"

namespace inkan::cli {
namespace {

std::string resultWord(const std::string& result)
{
    if (result == "pass") return "PASS";
    if (result == "fail") return "FAIL";
    if (result == "skipped") return "SKIP";
    return "?";
}

ExitCode selfTest(Session& session, bool withPin)
{
    const std::string path = session.cardPath() + "/selftest";
    ApiResponse response;
    if (withPin) {
        // The test signature spends a try when the PIN is wrong, like any signature.
        checkPinBeforeSpendingATry(session, "the self-test");
        SecretInput input;
        Secret pin = input.ask("PIN for card " + session.cardId() + ": ");
        RequestBody body(nlohmann::json::object(), {{"pin", pin}});
        response = session.api().post(path, body, "testing the card…");
    } else {
        RequestBody body(nlohmann::json::object());
        response = session.api().post(path, body, "testing the card…");
    }
    const nlohmann::json& report = response.json;
    const bool passed = flagOf(report, "passed");
    const ExitCode code = passed ? ExitCode::Ok : ExitCode::CheckFailed;
    if (session.json()) {
        session.printJson(response);
        return code;
    }

    int counts[3] = {0, 0, 0};  // pass, fail, skipped
    TextTable table({"RESULT", "CHECK", "DETAIL"});
    for (const auto& check : arrayOf(report, "checks")) {
        const std::string result = textOf(check, "result");
        counts[result == "pass" ? 0 : result == "fail" ? 1 : 2]++;
        table.addRow({resultWord(result), textOf(check, "name"), textOf(check, "detail")});
    }
    table.print(session.out());
    session.out() << "\nSelf-test " << (passed ? "passed" : "FAILED") << " for card " << textOf(report, "cardId") << ": "
                  << counts[0] << " passed, " << counts[1] << " failed, " << counts[2] << " skipped\n";
    return code;
}

}  // namespace

void addSelfTestCommand(Commands& commands)
{
    auto withPin = std::make_shared<bool>(false);
    CLI::App& command = commands.add(commands.root(), "selftest",
                                     "Test the reader, the card, its certificates, chain and revocation; with --with-pin also "
                                     "that the card's key matches its certificate",
                                     [withPin](Session& session) { return selfTest(session, *withPin); });
    command.add_flag("--with-pin", *withPin,
                     "Ask for the PIN and have the card sign a random digest, verified with the certificate "
                     "(a wrong PIN spends a try)");
    command.footer("Exit status: 0 when no check failed, 6 when one did. Without --with-pin no PIN try is at stake.");
}

}  // namespace inkan::cli
