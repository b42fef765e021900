// `inkan import FILE.p12`: a 商業登記電子証明書 kept as a PKCS#12 file becomes a
// credential inkand lists and signs with like a card (docs/credentials.md).
// The file's password is read on the terminal without echo, or as one line
// from standard input (--password-stdin); never from the command line.
// `inkan import --remove ID` deletes a credential, after confirmation.
#include <memory>
#include <unistd.h>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/secret_input.hpp"

namespace inkan::cli {
namespace {

struct ImportOptions {
    std::string file;
    bool passwordStdin = false;
    std::string remove;  // a credential id
    bool yes = false;
};

ExitCode importFile(Session& session, const ImportOptions& options)
{
    // The file first: a wrong path must not ask for a password.
    const std::string content = readFile(options.file);
    SecretInput input;
    if (options.passwordStdin && input.fromTerminal()) {
        throw Failure(ExitCode::Usage, "--password-stdin: standard input is a terminal; pipe the password in");
    }
    Secret password = input.ask("Password of " + options.file + ": ");
    RequestBody body({{"pkcs12", base64Encode(Bytes(content.begin(), content.end()))}}, {{"password", password}});
    ApiResponse response = session.api().post("/credentials", body, "checking the file…");
    if (session.json()) {
        session.printJson(response);
        return ExitCode::Ok;
    }
    const auto& card = response.json.at("card");
    session.out() << "imported: " << textOf(card, "id") << "  " << textOf(card, "label") << '\n';
    for (const auto& warning : response.json.value("warnings", nlohmann::json::array())) {
        session.note("warning: " + warning.get<std::string>());
    }
    session.note("sign with it as with a card: inkan --card " + textOf(card, "id") + " sign FILE (its PIN is the file's password)");
    return ExitCode::Ok;
}

ExitCode removeCredential(Session& session, const ImportOptions& options)
{
    if (!options.yes && !askYes("Delete credential " + options.remove + " from inkand (the original file stays where it is)?")) {
        throw Failure(ExitCode::Usage, "nothing deleted");
    }
    ApiResponse response = session.api().remove("/credentials/" + pathSegment(options.remove));
    if (session.json()) session.printJson(response);
    else session.out() << "removed: " << options.remove << '\n';
    return ExitCode::Ok;
}

}  // namespace

void addImportCommand(Commands& commands)
{
    auto options = std::make_shared<ImportOptions>();
    CLI::App& command = commands.add(
        commands.root(), "import",
        "Import a PKCS#12 file (.p12/.pfx, e.g. a 商業登記電子証明書) as a credential, or --remove one",
        [options](Session& session) {
            if (!options->remove.empty()) return removeCredential(session, *options);
            if (options->file.empty()) throw Failure(ExitCode::Usage, "import takes FILE.p12, or --remove ID");
            return importFile(session, *options);
        });
    command.add_option("FILE", options->file, "The PKCS#12 file; it is stored as it is, still encrypted");
    command.add_flag("--password-stdin", options->passwordStdin, "Read the file's password as one line from standard input");
    command.add_option("--remove", options->remove, "Delete the credential with this id (after confirmation)");
    command.add_flag("-y,--yes", options->yes, "With --remove: do not ask for confirmation");
    command.footer("The password is never taken from the command line. docs/credentials.md");
}

}  // namespace inkan::cli
