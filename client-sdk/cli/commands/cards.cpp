// `inkan cards`: the cards present, their PIN state and certificates.
#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/timestamps.hpp"

namespace inkan::cli {

void addCardsCommand(Commands& commands)
{
    commands.add(commands.root(), "cards", "List the cards present with their PIN state and certificates", [](Session& session) {
        ApiResponse response = session.api().get("/cards", "reading the cards…");
        if (session.json()) {
            session.printJson(response);
            return ExitCode::Ok;
        }
        const nlohmann::json& cards = arrayOf(response.json, "cards");
        if (cards.empty()) {
            session.out() << "No card in any reader.\n";
            return ExitCode::Ok;
        }
        TextTable table({"CARD ID", "LABEL", "PROFILE", "READER", "PIN"});
        for (const auto& card : cards) {
            table.addRow({textOf(card, "id"), textOf(card, "label"), textOf(card, "profile"), textOf(card, "reader"),
                          pinSummary(objectOf(card, "pin"))});
        }
        table.print(session.out());
        for (const auto& card : cards) {
            session.out() << "\nCertificates on " << textOf(card, "id") << ":\n";
            TextTable certificates({"ID", "SUBJECT", "VALID UNTIL", ""});
            for (const auto& certificate : arrayOf(card, "certificates")) {
                std::string notAfter = textOf(certificate, "notAfter");
                certificates.addRow({textOf(certificate, "id"), textOf(certificate, "subject"), notAfter.substr(0, 10),
                                     validityText(notAfter, session.now())});
            }
            certificates.print(session.out());
        }
        return ExitCode::Ok;
    });
}

}  // namespace inkan::cli
