// `inkan cert show|export`: a certificate of the card, read through inkand.
#include <ostream>
#include <memory>

#include <unistd.h>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/timestamps.hpp"

namespace inkan::cli {
namespace {

// The signing certificate of the reference card (docs/reference-card.md).
constexpr const char* kDefaultCertificate = "sign";
// The registry sends its renewal notice about a month before expiry.
constexpr long kRenewalWarningDays = 30;

ApiResponse fetchCertificate(Session& session, const std::string& certificateId)
{
    return session.api().get(session.cardPath() + "/certificates/" + pathSegment(certificateId), "reading the certificate…");
}

Certificate certificateOf(const ApiResponse& response)
{
    auto der = base64Decode(textOf(response.json, "der"));
    if (!der || der->empty()) throw Failure(ExitCode::ApiError, "inkand's answer holds no certificate (member \"der\")");
    return Certificate::fromDer(*der);
}

ExitCode show(Session& session, const std::string& certificateId)
{
    ApiResponse response = fetchCertificate(session, certificateId);
    if (session.json()) {
        session.printJson(response);
        return ExitCode::Ok;
    }
    const nlohmann::json& fields = response.json;
    Certificate certificate = certificateOf(response);
    std::string notAfter = textOf(fields, "notAfter");

    KeyValueList list;
    list.add("Certificate", certificateId + " on card " + session.cardId());
    list.add("Subject", textOf(fields, "subject"));
    list.add("Issuer", textOf(fields, "issuer"));
    list.add("Serial number", textOf(fields, "serialNumber"));
    list.add("Valid from", readableTimestamp(textOf(fields, "notBefore")));
    list.add("Valid until", readableTimestamp(notAfter) + " (" + validityText(notAfter, session.now()) + ")");
    list.add("SHA-256", certificate.sha256Fingerprint());
    list.print(session.out());

    if (auto until = parseUtcTimestamp(notAfter)) {
        long left = daysBetween(session.now(), *until);
        if (*until < session.now()) {
            session.warn("this certificate has expired: signatures made with it will not be accepted");
        } else if (left <= kRenewalWarningDays) {
            session.warn("this certificate expires in " + std::to_string(left) + " days: apply for the renewed card now");
        }
    }
    return ExitCode::Ok;
}

struct ExportOptions {
    std::string certificateId = kDefaultCertificate;
    bool der = false;
    std::string output;
};

ExitCode exportCertificate(Session& session, const ExportOptions& options)
{
    ApiResponse response = fetchCertificate(session, options.certificateId);
    Certificate certificate = certificateOf(response);
    std::string content = options.der ? std::string(certificate.der().begin(), certificate.der().end()) : certificate.pem();

    if (!options.output.empty()) {
        writeFileAtomically(options.output, content);
        if (session.json()) session.printJson(response);
        else session.note("certificate " + options.certificateId + " written to " + options.output);
        return ExitCode::Ok;
    }
    if (session.json()) {
        session.printJson(response);
        return ExitCode::Ok;
    }
    if (options.der && ::isatty(STDOUT_FILENO) == 1) {
        throw Failure(ExitCode::Usage, "DER is binary: not writing it to the terminal", "use -o FILE, or redirect stdout to a file");
    }
    std::ostream& out = session.out();
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw Failure(ExitCode::LocalIo, "cannot write the certificate to stdout");
    return ExitCode::Ok;
}

}  // namespace

void addCertCommands(Commands& commands)
{
    CLI::App& cert = commands.group(commands.root(), "cert", "Show or export a certificate of the card");

    auto showId = std::make_shared<std::string>(kDefaultCertificate);
    CLI::App& showCommand = commands.add(cert, "show", "Show a certificate: subject, issuer, serial number, validity and days left",
                                         [showId](Session& session) { return show(session, *showId); });
    showCommand.add_option("CERT", *showId, "Certificate id on the card (`inkan cards` lists them)")->capture_default_str();

    auto exportOptions = std::make_shared<ExportOptions>();
    CLI::App& exportCommand = commands.add(cert, "export", "Write a certificate as PEM (default) or DER to stdout or a file",
                                           [exportOptions](Session& session) { return exportCertificate(session, *exportOptions); });
    exportCommand.add_option("CERT", exportOptions->certificateId, "Certificate id on the card (`inkan cards` lists them)")
        ->capture_default_str();
    exportCommand.add_flag("--der", exportOptions->der, "Binary DER instead of PEM");
    exportCommand.add_option("-o,--output", exportOptions->output, "Write to FILE instead of stdout");
}

}  // namespace inkan::cli
