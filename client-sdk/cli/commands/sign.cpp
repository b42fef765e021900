// `inkan sign FILE`: the file is hashed here, only the digest goes to inkand,
// the card signs it; the raw signature and the certificate land next to FILE.
// `inkan sign --format cms FILE`: the file goes to inkand, which returns a
// detached CMS signature (CAdES-BES, docs/formats.md) written to FILE.p7s.
// `inkan sign --format pdf FILE.pdf`: the PDF goes to inkand, which returns
// it signed (an incremental update, adbe.pkcs7.detached) as FILE-signed.pdf.
// `inkan sign --format egov kousei.xml FILE…`: the e-Gov package's
// kousei.xml and its application files go to inkand; the signed kousei.xml
// replaces the given one (or goes to -o OUT).
#include <cctype>
#include <filesystem>
#include <memory>
#include <vector>

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
    std::vector<std::string> files;  // the document; for egov kousei.xml and then the application files
    std::string file;                // files[0]
    std::string digestAlgorithm = "SHA-256";
    std::string output;       // the signature file; default FILE.sig
    std::string certificate;  // empty: the card's signing certificate, chosen by inkand
    bool pinpad = false;      // the PIN is typed on the reader's PIN pad
    std::string format;       // empty: the raw signature; "cms", "pdf", "egov": a document signature (docs/formats.md)
    bool includeChain = false;
    std::string reason;       // pdf: /Reason
    std::string location;     // pdf: /Location
    bool visible = false;     // pdf: a stamp on page 1
};

/// FILE.pdf → FILE-signed.pdf (any other name: FILE-signed.pdf too).
std::string signedPdfName(const std::string& file)
{
    std::string stem = file;
    if (stem.size() > 4) {
        std::string extension = stem.substr(stem.size() - 4);
        for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (extension == ".pdf") stem.resize(stem.size() - 4);
    }
    return stem + "-signed.pdf";
}

/// PIN `pin` (or the PIN pad) for one signing request to `path`.
ApiResponse postWithPin(Session& session, const CardPin& pin, const std::string& path, nlohmann::json& fields, bool pinpad)
{
    const std::string which = pin.onlyPin ? "PIN" : "PIN " + pin.id;
    return forPin(pin, [&] {
        if (pinpad) {
            fields["pinpad"] = true;
            session.note("Type the " + which + " for card " + session.cardId() + " on the reader's PIN pad.");
            RequestBody body(fields);
            return session.api().post(path, body, "signing on the card…");
        }
        SecretInput input;
        Secret value = input.ask(which + " for card " + session.cardId() + ": ");
        RequestBody body(fields, {{"pin", value}});
        return session.api().post(path, body, "signing on the card…");
    });
}

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

    ApiResponse response = postWithPin(session, pin, session.cardPath() + "/sign", fields, options.pinpad);

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

Bytes fileBytes(const std::string& path)
{
    const std::string content = readFile(path);
    return Bytes(content.begin(), content.end());
}

/// `--format cms|pdf|egov`: the documents go to inkand, the signed result comes back.
ExitCode signDocument(Session& session, const SignOptions& options)
{
    const bool egov = options.format == "egov";
    const bool pdf = options.format == "pdf";
    if (!egov && options.files.size() != 1) throw Failure(ExitCode::Usage, "--format " + options.format + " signs one FILE");
    if (!pdf && (!options.reason.empty() || !options.location.empty() || options.visible)) {
        throw Failure(ExitCode::Usage, "--reason, --location and --visible are for --format pdf");
    }
    if (pdf && options.digestAlgorithm != "SHA-256") throw Failure(ExitCode::Usage, "--format pdf signs with SHA-256 only");
    if (egov && options.files.size() < 2) {
        throw Failure(ExitCode::Usage, "--format egov takes kousei.xml and the application files it names");
    }
    // Read everything before the card: a typo in a file name costs no PIN try.
    nlohmann::json fields = {{"format", options.format}};
    if (egov) {
        fields["kousei"] = base64Encode(fileBytes(options.file));
        nlohmann::json files = nlohmann::json::array();
        for (std::size_t i = 1; i < options.files.size(); ++i) {
            files.push_back({{"name", std::filesystem::path(options.files[i]).filename().string()},
                             {"content", base64Encode(fileBytes(options.files[i]))}});
        }
        fields["files"] = std::move(files);
    } else {
        fields["content"] = base64Encode(fileBytes(options.file));
        fields["digestAlgorithm"] = options.digestAlgorithm;
        fields["name"] = std::filesystem::path(options.file).filename().string();
        if (options.includeChain) fields["includeChain"] = true;
        if (!options.reason.empty()) fields["reason"] = options.reason;
        if (!options.location.empty()) fields["location"] = options.location;
        if (options.visible) fields["visible"] = true;
    }
    const std::string outputFile = !options.output.empty() ? options.output
                                   : egov                  ? options.file
                                   : pdf                   ? signedPdfName(options.file)
                                                           : options.file + ".p7s";
    requireWritableDirectory(outputFile);
    if (!options.certificate.empty()) fields["certificate"] = options.certificate;

    const CardPin pin = keyPin(session, options.certificate);
    const nlohmann::json pinStatus = checkPinBeforeSpendingATry(session, pin, "signing");
    if (fewTriesLeft(pinStatus)) fields["acknowledgeLowTries"] = true;

    ApiResponse response = postWithPin(session, pin, session.cardPath() + "/signatures", fields, options.pinpad);
    writeFileAtomically(outputFile, decodedMember(response.json, egov ? "kousei" : pdf ? "content" : "signature"));
    if (session.json()) {
        session.printJson(response);
    } else {
        session.out() << (egov ? "signed kousei.xml: " : pdf ? "signed PDF: " : "signature: ") << outputFile << '\n';
    }
    return ExitCode::Ok;
}

}  // namespace

void addSignCommand(Commands& commands)
{
    auto options = std::make_shared<SignOptions>();
    CLI::App& command = commands.add(
        commands.root(), "sign",
        "Sign FILE with the card: writes FILE.sig (raw signature) and FILE.cert.pem; with --format cms FILE.p7s;\n"
        "with --format pdf FILE-signed.pdf; with --format egov the signed kousei.xml",
        [options](Session& session) {
            options->file = options->files.front();
            if (options->format.empty()) {
                if (options->files.size() != 1) throw Failure(ExitCode::Usage, "sign takes one FILE without --format egov");
                if (!options->reason.empty() || !options->location.empty() || options->visible) {
                    throw Failure(ExitCode::Usage, "--reason, --location and --visible are for --format pdf");
                }
                return sign(session, *options);
            }
            return signDocument(session, *options);
        });
    command.add_option("FILE", options->files,
                       "The document to sign (hashed locally and never sent; with --format it is sent to inkand);\n"
                       "for --format egov: kousei.xml, then the application files it names")
        ->required();
    command.add_option("--format", options->format,
                       "Document signature format: cms (detached CMS, CAdES-BES), pdf (signed PDF, adbe.pkcs7.detached),\n"
                       "egov (e-Gov kousei.xml)")
        ->check(CLI::IsMember({"cms", "pdf", "egov"}));
    command.add_option("--reason", options->reason, "With --format pdf: the signature's reason (/Reason)");
    command.add_option("--location", options->location, "With --format pdf: where it is signed (/Location)");
    command.add_flag("--visible", options->visible,
                     "With --format pdf: a stamp on page 1 with 商号, 氏名 and 日時 (default: an invisible signature)");
    command.add_flag("--include-chain", options->includeChain, "With --format: include the card's CA certificates");
    command.add_option("--digest-algorithm", options->digestAlgorithm, "Hash algorithm")
        ->check(CLI::IsMember(digestAlgorithms()))
        ->capture_default_str();
    command.add_option("-o,--output", options->output,
                       "Output file (default: FILE.sig; --format cms FILE.p7s; --format pdf FILE-signed.pdf;\n"
                       "--format egov replaces kousei.xml)");
    command.add_option("--certificate,--cert", options->certificate,
                       "Certificate id whose key signs, e.g. `auth` on the My Number card (default: the card's signing "
                       "certificate); the PIN asked for is the one guarding that key");
    command.add_flag("--pinpad", options->pinpad, "Type the PIN on the reader's PIN pad (it never reaches this computer)");
    command.footer(
        "The PIN is asked on the terminal without echo, or read as one line from stdin;\n"
        "with --pinpad it is typed on the reader's PIN pad.\n"
        "The signature is RSASSA-PKCS1-v1_5 over the file's digest; check it with\n"
        "  openssl x509 -in FILE.cert.pem -pubkey -noout > pubkey.pem\n"
        "  openssl dgst -sha256 -verify pubkey.pem -signature FILE.sig FILE\n"
        "With --format cms the file is sent to inkand, which returns a detached CMS\n"
        "signature (CAdES-BES); check it with\n"
        "  openssl cms -verify -binary -inform DER -in FILE.p7s -content FILE -CAfile CA.pem -purpose any -ignore_critical\n"
        "With --format pdf the PDF is sent to inkand and comes back signed; check it with\n"
        "  pdfsig FILE-signed.pdf");
}

}  // namespace inkan::cli
