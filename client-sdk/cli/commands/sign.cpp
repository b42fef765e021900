// `inkan sign FILE`: the file is hashed here, only the digest goes to inkand,
// the card signs it; the raw signature and the certificate land next to FILE.
#include <filesystem>
#include <memory>

#include <unistd.h>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/commands/pin_guard.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "client-sdk/cli/secret_input.hpp"

namespace inkan::cli {
namespace {

struct SignOptions {
    std::string file;
    std::string digestAlgorithm = "SHA-256";
    std::string output;       // the signature file; default FILE.sig
    std::string certificate;  // empty: the card's signing certificate, chosen by inkand
    bool pinpad = false;      // the PIN is typed on the reader's PIN pad
};

Bytes decodedMember(const nlohmann::json& answer, const char* name)
{
    auto bytes = base64Decode(textOf(answer, name));
    if (!bytes || bytes->empty()) throw Failure(ExitCode::ApiError, std::string("inkand's answer holds no valid \"") + name + "\"");
    return *bytes;
}

/// The outputs are written after the card has signed; a directory that
/// cannot take them is reported before the PIN is asked for.
void requireWritableDirectory(const std::filesystem::path& file)
{
    std::filesystem::path directory = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
        throw Failure(ExitCode::LocalIo, "cannot write " + file.string() + ": " + systemReason());
    }
}

ExitCode sign(Session& session, const SignOptions& options)
{
    // Read the document before anything touches the card: a typo in the
    // file name must not cost a PIN try.
    Bytes digest = hashFile(options.file, options.digestAlgorithm);
    std::string signatureFile = options.output.empty() ? options.file + ".sig" : options.output;
    std::string certificateFile = options.file + ".cert.pem";
    requireWritableDirectory(signatureFile);
    requireWritableDirectory(certificateFile);

    // The PIN asked for is the one guarding the chosen certificate's key
    // (the My Number card: `sign` for the sign certificate, `auth` for auth).
    const CardPin pin = keyPin(session, options.certificate);
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, pin, "signing");
    nlohmann::json fields = {{"digest", base64Encode(digest)}, {"digestAlgorithm", options.digestAlgorithm}};
    if (!options.certificate.empty()) fields["certificate"] = options.certificate;
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;  // the warning above was the question

    const std::string which = pin.onlyPin ? "PIN" : "PIN " + pin.id;
    ApiResponse response = forPin(pin, [&] {
        if (options.pinpad) {
            fields["pinpad"] = true;
            session.note("Type the " + which + " for card " + session.cardId() + " on the reader's PIN pad.");
            RequestBody body(fields);
            return session.api().post(session.cardPath() + "/sign", body, "signing on the card…");
        }
        SecretInput input;
        Secret value = input.ask(which + " for card " + session.cardId() + ": ");
        RequestBody body(fields, {{"pin", value}});
        return session.api().post(session.cardPath() + "/sign", body, "signing on the card…");
    });

    Bytes signature = decodedMember(response.json, "signature");
    Certificate certificate = Certificate::fromDer(decodedMember(response.json, "certificate"));
    writeFileAtomically(signatureFile, signature);
    writeFileAtomically(certificateFile, certificate.pem());

    if (session.json()) {
        session.printJson(response);
    } else {
        session.out() << "signature:   " << signatureFile << '\n' << "certificate: " << certificateFile << '\n';
    }
    return ExitCode::Ok;
}

}  // namespace

void addSignCommand(Commands& commands)
{
    auto options = std::make_shared<SignOptions>();
    CLI::App& command = commands.add(commands.root(), "sign", "Sign FILE with the card: writes FILE.sig (raw signature) and FILE.cert.pem",
                                     [options](Session& session) { return sign(session, *options); });
    command.add_option("FILE", options->file, "The document to sign (hashed locally, never sent)")->required();
    command.add_option("--digest-algorithm", options->digestAlgorithm, "Hash algorithm")
        ->check(CLI::IsMember(digestAlgorithms()))
        ->capture_default_str();
    command.add_option("-o,--output", options->output, "Signature file (default: FILE.sig)");
    command.add_option("--certificate,--cert", options->certificate,
                       "Certificate id whose key signs, e.g. `auth` on the My Number card (default: the card's signing "
                       "certificate); the PIN asked for is the one guarding that key");
    command.add_flag("--pinpad", options->pinpad, "Type the PIN on the reader's PIN pad (it never reaches this computer)");
    command.footer(
        "The PIN is asked on the terminal without echo, or read as one line from stdin;\n"
        "with --pinpad it is typed on the reader's PIN pad.\n"
        "The signature is RSASSA-PKCS1-v1_5 over the file's digest; check it with\n"
        "  openssl x509 -in FILE.cert.pem -pubkey -noout > pubkey.pem\n"
        "  openssl dgst -sha256 -verify pubkey.pem -signature FILE.sig FILE");
}

}  // namespace inkan::cli
