// `inkan cert show|verify|export`: a certificate of the card, read and checked through inkand.
#include <ostream>
#include <memory>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/terminal.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/timestamps.hpp"

namespace inkan::cli {
namespace {

// The signing certificate of the reference card (docs/reference-card.md).
constexpr const char* kDefaultCertificate = "sign";
// The registry sends its renewal notice about a month before expiry; used
// only when inkand's answer does not say (it applies its configured days).
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

std::string joined(const nlohmann::json& list, const char* member = nullptr)
{
    std::string text;
    if (!list.is_array()) return text;
    for (const auto& item : list) {
        const std::string value = member ? textOf(item, member) : (item.is_string() ? item.get<std::string>() : std::string());
        if (value.empty()) continue;
        if (!text.empty()) text += ", ";
        text += value;
    }
    return text;
}

void addIfPresent(KeyValueList& list, const std::string& key, const std::string& value)
{
    if (!value.empty()) list.add(key, value);
}

std::string keyText(const nlohmann::json& key)
{
    std::string text = textOf(key, "type");
    if (auto bits = numberOf(key, "bits"); bits && *bits > 0) text += " " + std::to_string(*bits) + " bits";
    if (auto curve = textOf(key, "curve"); !curve.empty()) text += " (" + curve + ")";
    return text;
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
    addIfPresent(list, "Key", keyText(objectOf(fields, "key")));
    addIfPresent(list, "Key usage", joined(arrayOf(fields, "keyUsage")));

    // The commercial registry's extensions: the company and its representative
    // as registered, under the names the registry uses.
    const nlohmann::json& registry = objectOf(fields, "registry");
    addIfPresent(list, "商号 (corporate name)", textOf(registry, "corporateName"));
    addIfPresent(list, "会社法人等番号 (registered number)", textOf(registry, "registeredNumber"));
    addIfPresent(list, "本店 (head office)", textOf(registry, "headOffice"));
    addIfPresent(list, "代表者 (representative)", textOf(registry, "representativeName"));
    addIfPresent(list, "資格 (title)", textOf(registry, "representativeTitle"));
    addIfPresent(list, "登記所 (registry office)", textOf(registry, "registryOffice"));
    addIfPresent(list, "登記官 (registrar)", textOf(registry, "registrar"));
    for (const auto& other : arrayOf(objectOf(fields, "subjectAltNames"), "otherName")) {
        if (flagOf(other, "isString")) list.add("Alt name " + textOf(other, "oid"), textOf(other, "value"));
    }
    addIfPresent(list, "Policies", joined(arrayOf(fields, "policies"), "oid"));
    addIfPresent(list, "OCSP", joined(arrayOf(fields, "ocspUrls")));
    addIfPresent(list, "CRL", joined(arrayOf(fields, "crlUrls")));
    list.add("SHA-256", certificate.sha256Fingerprint());
    list.print(session.out());

    // inkand judges expiry with its configured warning period; older daemons
    // did not say, so fall back to the registry's month.
    const auto until = parseUtcTimestamp(notAfter);
    const bool expired = fields.contains("expired") ? flagOf(fields, "expired") : (until && *until < session.now());
    const bool soon = fields.contains("expiringSoon")
        ? flagOf(fields, "expiringSoon")
        : (until && !expired && daysBetween(session.now(), *until) <= kRenewalWarningDays);
    if (expired) {
        session.warn("this certificate has expired: signatures made with it will not be accepted");
    } else if (soon && until) {
        session.warn("this certificate expires in " + std::to_string(daysBetween(session.now(), *until))
                     + " days: apply for the renewed card now");
    }
    return ExitCode::Ok;
}

struct VerifyOptions {
    std::string certificateId = kDefaultCertificate;
    std::string at;  // RFC 3339; empty: now
};

std::string verdictWord(const std::string& verdict)
{
    if (verdict == "valid") return "VALID";
    if (verdict == "invalid") return "NOT VALID";
    if (verdict == "revoked") return "REVOKED";
    if (verdict == "suspended") return "SUSPENDED (休止)";
    return "UNKNOWN";
}

std::string revocationText(const nlohmann::json& revocation)
{
    const std::string status = textOf(revocation, "status");
    if (!flagOf(revocation, "checked")) return "not checked: " + textOf(revocation, "detail");
    std::string source = textOf(revocation, "source") == "crl" ? "CRL" : "OCSP";
    if (auto url = textOf(revocation, "url"); !url.empty()) source += " " + url;
    if (flagOf(revocation, "fromCache")) source += ", cached";
    if (status == "good") {
        std::string text = "good, per " + source;
        if (auto next = textOf(revocation, "nextUpdate"); !next.empty()) text += " (next update " + readableTimestamp(next) + ")";
        return text;
    }
    if (status == "revoked" || status == "suspended") {
        std::string text = status == "revoked" ? "revoked" : "suspended (休止)";
        if (auto time = textOf(revocation, "revocationTime"); !time.empty()) text += " since " + readableTimestamp(time);
        if (auto reason = textOf(revocation, "reason"); !reason.empty()) text += " (" + reason + ")";
        return text + ", per " + source;
    }
    std::string text = "unknown: " + textOf(revocation, "cause");
    if (auto detail = textOf(revocation, "detail"); !detail.empty()) text += " (" + detail + ")";
    return text;
}

ExitCode verify(Session& session, const VerifyOptions& options)
{
    std::string path = session.cardPath() + "/certificates/" + pathSegment(options.certificateId) + "/validation";
    if (!options.at.empty()) path += "?at=" + pathSegment(options.at);
    ApiResponse response = session.api().get(path, "checking the certificate…");
    const nlohmann::json& result = response.json;
    const std::string verdict = textOf(result, "verdict");
    const ExitCode code = verdict == "valid" ? ExitCode::Ok
        : verdict == "unknown"               ? ExitCode::CheckInconclusive
                                             : ExitCode::CheckFailed;
    if (session.json()) {
        session.printJson(response);
        return code;
    }

    std::ostream& out = session.out();
    out << verdictWord(verdict) << ": certificate " << options.certificateId << " on card " << session.cardId() << " — "
        << textOf(result, "summary") << "\n\n";

    const nlohmann::json& chain = objectOf(result, "chain");
    KeyValueList summary;
    summary.add("Checked at", readableTimestamp(textOf(result, "checkedAt")));
    std::string chainText = flagOf(chain, "valid") ? "valid" : "not valid: " + textOf(chain, "reason");
    if (!flagOf(chain, "valid") && !textOf(chain, "detail").empty()) chainText += " (" + textOf(chain, "detail") + ")";
    summary.add("Chain", chainText);
    summary.add("Revocation", revocationText(objectOf(result, "revocation")));
    summary.print(out);

    const nlohmann::json& links = arrayOf(chain, "certificates");
    if (!links.empty()) {
        out << '\n';
        TextTable table({"#", "SUBJECT", "SERIAL", "VALID UNTIL", ""});
        int depth = 0;
        for (const auto& link : links) {
            table.addRow({std::to_string(depth++), textOf(link, "subject"), textOf(link, "serialNumber"),
                          textOf(link, "notAfter").substr(0, 10), flagOf(link, "trustAnchor") ? "trust anchor" : ""});
        }
        table.print(out);
    }
    const nlohmann::json& revocation = objectOf(result, "revocation");
    if (textOf(revocation, "status") == "unknown" && !arrayOf(revocation, "attempts").empty()) {
        out << "\nRevocation sources tried:\n";
        for (const auto& attempt : arrayOf(revocation, "attempts")) {
            out << "  " << textOf(attempt, "method") << ' ' << textOf(attempt, "url") << ": " << textOf(attempt, "status");
            if (textOf(attempt, "status") == "unknown") out << " (" << textOf(attempt, "cause") << ": " << textOf(attempt, "detail") << ')';
            out << '\n';
        }
    }
    return code;
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
    if (options.der && stdoutIsTerminal()) {
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
    CLI::App& cert = commands.group(commands.root(), "cert", "Show, verify or export a certificate of the card");

    auto showId = std::make_shared<std::string>(kDefaultCertificate);
    CLI::App& showCommand = commands.add(cert, "show",
                                         "Show a certificate: subject, issuer, validity and days left, key, and the registry's "
                                         "商号, 会社法人等番号, 本店, 代表者, 資格, 登記所",
                                         [showId](Session& session) { return show(session, *showId); });
    showCommand.add_option("CERT", *showId, "Certificate id on the card (`inkan cards` lists them)")->capture_default_str();

    auto verifyOptions = std::make_shared<VerifyOptions>();
    CLI::App& verifyCommand = commands.add(
        cert, "verify", "Check that a certificate is valid now or at --at: chain to a trust anchor, then revocation (OCSP/CRL)",
        [verifyOptions](Session& session) { return verify(session, *verifyOptions); });
    verifyCommand.add_option("CERT", verifyOptions->certificateId, "Certificate id on the card (`inkan cards` lists them)")
        ->capture_default_str();
    verifyCommand.add_option("--at", verifyOptions->at,
                             "Judge validity at this time instead of now: RFC 3339 with an offset, e.g. 2026-04-01T09:00:00+09:00");
    verifyCommand.footer("Exit status: 0 valid, 6 not valid (invalid, revoked, suspended), 7 unknown (no revocation evidence).");

    auto exportOptions = std::make_shared<ExportOptions>();
    CLI::App& exportCommand = commands.add(cert, "export", "Write a certificate as PEM (default) or DER to stdout or a file",
                                           [exportOptions](Session& session) { return exportCertificate(session, *exportOptions); });
    exportCommand.add_option("CERT", exportOptions->certificateId, "Certificate id on the card (`inkan cards` lists them)")
        ->capture_default_str();
    exportCommand.add_flag("--der", exportOptions->der, "Binary DER instead of PEM");
    exportCommand.add_option("-o,--output", exportOptions->output, "Write to FILE instead of stdout");
}

}  // namespace inkan::cli
