// `inkan status`: is inkand up, is PC/SC there, which readers hold which card.
#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/text_table.hpp"

namespace inkan::cli {

void addStatusCommand(Commands& commands)
{
    commands.add(commands.root(), "status", "Show inkand's version, PC/SC and the readers with their cards", [](Session& session) {
        ApiResponse response = session.api().get("/status");
        if (session.json()) {
            session.printJson(response);
            return ExitCode::Ok;
        }
        const nlohmann::json& status = response.json;
        KeyValueList summary;
        summary.add("inkand", textOf(status, "version") + " on 127.0.0.1:" + std::to_string(session.api().port()));
        summary.add("PC/SC", flagOf(status, "pcscAvailable") ? "available" : "not available (is pcscd running?)");
        summary.print(session.out());

        const nlohmann::json& readers = arrayOf(status, "readers");
        session.out() << '\n';
        if (readers.empty()) {
            session.out() << "No reader connected.\n";
            return ExitCode::Ok;
        }
        TextTable table({"READER", "CARD", "CARD ID", "ATR", "PIN PAD"});
        for (const auto& reader : readers) {
            bool present = flagOf(reader, "cardPresent");
            table.addRow({textOf(reader, "name"), present ? "present" : "empty", textOf(reader, "cardId"), textOf(reader, "atr"),
                          flagOf(reader, "pinpad") ? "yes" : ""});
        }
        table.print(session.out());
        return ExitCode::Ok;
    });
}

}  // namespace inkan::cli
