// `inkan cards`: the cards present, their PINs and certificates (a certificate
// the card shows only after a PIN is verified is listed as such).
#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/timestamps.hpp"

namespace inkan::cli {
namespace {

/// The PIN column: the default PIN's tries on a one-PIN card, every PIN's on others.
std::string pinsText(const nlohmann::json& card)
{
    const nlohmann::json& pins = arrayOf(card, "pins");
    if (pins.size() <= 1) return pinSummary(objectOf(card, "pin"));
    std::string text;
    for (const auto& pin : pins) text += (text.empty() ? "" : "; ") + textOf(pin, "id") + ": " + pinSummary(pin);
    return text;
}

}  // namespace

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
                          pinsText(card)});
        }
        table.print(session.out());
        for (const auto& card : cards) {
            const nlohmann::json& pins = arrayOf(card, "pins");
            if (pins.size() > 1) {
                session.out() << "\nPINs on " << textOf(card, "id") << ":\n";
                TextTable pinTable({"ID", "LABEL", "TRIES", "FORMAT", "UNBLOCK"});
                for (const auto& pin : pins) {
                    pinTable.addRow({textOf(pin, "id"), textOf(pin, "label"), pinSummary(pin), formatSummary(objectOf(pin, "format")),
                                     flagOf(pin, "unblockable") ? "with the unblock code" : "issuer only"});
                }
                pinTable.print(session.out());
            }
            session.out() << "\nCertificates on " << textOf(card, "id") << ":\n";
            TextTable certificates({"ID", "SUBJECT", "VALID UNTIL", "", "KEY PIN"});
            for (const auto& certificate : arrayOf(card, "certificates")) {
                if (certificate.contains("readable") && !flagOf(certificate, "readable")) {
                    certificates.addRow({textOf(certificate, "id"),
                                         "(read after PIN " + textOf(certificate, "readAfterPin") + " is verified)", "", "",
                                         textOf(certificate, "keyPin")});
                    continue;
                }
                std::string notAfter = textOf(certificate, "notAfter");
                certificates.addRow({textOf(certificate, "id"), textOf(certificate, "subject"), notAfter.substr(0, 10),
                                     validityText(notAfter, session.now()), textOf(certificate, "keyPin")});
            }
            certificates.print(session.out());
        }
        return ExitCode::Ok;
    });
}

}  // namespace inkan::cli
