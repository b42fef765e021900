// inkan CLI — the command table.
//
// A command is one function that declares its options on a CLI11 subcommand
// and hands over the action to run once the command line has been parsed:
//
//     void addStatusCommand(Commands& commands)
//     {
//         commands.add(commands.root(), "status", "Show inkand, PC/SC and the readers",
//                      [](Session& session) { ...; return ExitCode::Ok; });
//     }
//
// Adding a command = writing such a function (commands/*.cpp) and listing it
// in registerAllCommands().
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "client-sdk/cli/exit_code.hpp"
#include "client-sdk/cli/session.hpp"

namespace inkan::cli {

using Action = std::function<ExitCode(Session&)>;

class Commands {
public:
    explicit Commands(CLI::App& root) : root_(root) {}

    CLI::App& root() noexcept { return root_; }

    /// A command that only groups others (`cert`, `pin`, `trust`): one of them is required.
    CLI::App& group(CLI::App& parent, const std::string& name, const std::string& description);

    /// A command that does something: `action` runs after a successful parse.
    CLI::App& add(CLI::App& parent, const std::string& name, const std::string& description, Action action);

    /// Runs the action of the command given on the command line.
    ExitCode run(Session& session) const;

private:
    CLI::App& root_;
    Action chosen_;
};

void addStatusCommand(Commands& commands);
void addCardsCommand(Commands& commands);
void addCertCommands(Commands& commands);
void addPinCommands(Commands& commands);
void addSignCommand(Commands& commands);
void addTrustCommands(Commands& commands);
void addEventsCommand(Commands& commands);
void addSelfTestCommand(Commands& commands);
void addPairCommands(Commands& commands);
void addConsoleCommand(Commands& commands);
void addLogCommands(Commands& commands);
void addImportCommand(Commands& commands);

/// Asks `question` on stderr and reads y/N from stdin; false on anything but yes.
bool askYes(const std::string& question);

/// Every command, in the order `inkan --help` lists them.
inline void registerAllCommands(Commands& commands)
{
    addStatusCommand(commands);
    addCardsCommand(commands);
    addImportCommand(commands);
    addCertCommands(commands);
    addPinCommands(commands);
    addSignCommand(commands);
    addSelfTestCommand(commands);
    addTrustCommands(commands);
    addEventsCommand(commands);
    addPairCommands(commands);
    addConsoleCommand(commands);
    addLogCommands(commands);
}

}  // namespace inkan::cli
