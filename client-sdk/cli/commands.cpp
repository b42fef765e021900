#include "client-sdk/cli/commands.hpp"

#include <stdexcept>

namespace inkan::cli {

CLI::App& Commands::group(CLI::App& parent, const std::string& name, const std::string& description)
{
    CLI::App* command = parent.add_subcommand(name, description);
    command->require_subcommand(1);
    return *command;
}

CLI::App& Commands::add(CLI::App& parent, const std::string& name, const std::string& description, Action action)
{
    CLI::App* command = parent.add_subcommand(name, description);
    command->callback([this, action = std::move(action)] { chosen_ = action; });
    return *command;
}

ExitCode Commands::run(Session& session) const
{
    if (!chosen_) throw std::logic_error("no command was chosen");
    return chosen_(session);
}

}  // namespace inkan::cli
