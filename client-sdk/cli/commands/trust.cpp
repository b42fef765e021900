// `inkan trust install|uninstall|status`: inkand's local CA in the browsers'
// and the system's trust stores, so https://127.0.0.1:24713 is trusted.
// Works without a running inkand: only <state>/tls/ca.pem is read.
#include <memory>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/crypto.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "client-sdk/cli/trust_store.hpp"

namespace inkan::cli {
namespace {

struct TrustOptions {
    std::string nssdb;  // one NSS database instead of every place
};

/// The local CA, or nullopt when inkand has not created it (yet).
std::optional<Certificate> readLocalCa(Session& session)
{
    std::filesystem::path file = session.stateDir().caFile();
    std::error_code ignored;
    if (!std::filesystem::exists(file, ignored)) return std::nullopt;
    std::vector<Certificate> certificates = Certificate::allFromPem(readFile(file));
    if (certificates.size() != 1 || !certificates.front().isCa()) {
        throw Failure(ExitCode::LocalIo, file.string() + " does not hold exactly one CA certificate",
                      "remove the tls directory next to it and restart inkand to create a new CA");
    }
    return certificates.front();
}

std::string placeName(const TrustPlace& place)
{
    if (place.kind() == "system") return "system store";
    if (place.kind() == "firefox") return "Firefox profile";
    return "NSS database";
}

std::string stateText(const TrustStatus& status)
{
    std::string text;
    switch (status.state) {
    case TrustState::Trusted: text = "trusted"; break;
    case TrustState::Outdated: text = "outdated"; break;
    case TrustState::Absent: text = "not installed"; break;
    case TrustState::NoStore: text = "no store"; break;
    }
    return status.detail.empty() ? text : text + " (" + status.detail + ")";
}

ExitCode status(Session& session, const TrustOptions& options)
{
    std::optional<Certificate> ca = readLocalCa(session);
    auto places = findTrustPlaces(options.nssdb);
    if (session.json()) {
        nlohmann::json answer = {{"ca", {{"file", session.stateDir().caFile().string()}, {"present", ca.has_value()}}}, {"places", nlohmann::json::array()}};
        if (ca) answer["ca"]["sha256"] = ca->sha256Fingerprint();
        for (const auto& place : places) {
            TrustStatus state = place->status(ca);
            answer["places"].push_back({{"kind", place->kind()}, {"path", place->location().string()}, {"state", trustStateName(state.state)},
                                        {"detail", state.detail}});
        }
        session.out() << answer.dump(2) << '\n';
        return ExitCode::Ok;
    }
    KeyValueList summary;
    summary.add("Local CA", session.stateDir().caFile().string() + (ca ? "" : " (not created yet: start inkand once)"));
    if (ca) summary.add("SHA-256", ca->sha256Fingerprint());
    summary.print(session.out());
    session.out() << '\n';
    TextTable table({"WHERE", "PATH", "STATE"});
    for (const auto& place : places) table.addRow({placeName(*place), place->location().string(), stateText(place->status(ca))});
    table.print(session.out());
    return ExitCode::Ok;
}

ExitCode install(Session& session, const TrustOptions& options)
{
    std::optional<Certificate> ca = readLocalCa(session);
    if (!ca) {
        throw Failure(ExitCode::Unreachable, "no local CA at " + session.stateDir().caFile().string(),
                      "inkand creates it on its first start: start inkand, or pass its --state-dir");
    }
    ExitCode result = ExitCode::Ok;
    for (const auto& place : findTrustPlaces(options.nssdb)) {
        std::string where = placeName(*place) + " " + place->location().string();
        if (auto reason = place->cannotChange()) {
            session.note("skipped " + where + ": " + *reason);
            continue;
        }
        try {
            if (place->status(ca).state == TrustState::Trusted) {
                session.out() << "already trusted in " << where << '\n';
                continue;
            }
            place->install(*ca, session.stateDir().caFile());
            session.out() << "trusted in " << where << '\n';
        } catch (const Failure& failure) {
            // One broken profile must not keep the CA out of the others.
            session.warn(std::string(failure.what()) + (failure.hint().empty() ? "" : " — " + failure.hint()));
            result = failure.code();
        }
    }
    if (result == ExitCode::Ok) session.note("Restart the browsers that are running so that they read the change.");
    return result;
}

ExitCode uninstall(Session& session, const TrustOptions& options)
{
    ExitCode result = ExitCode::Ok;
    for (const auto& place : findTrustPlaces(options.nssdb)) {
        std::string where = placeName(*place) + " " + place->location().string();
        if (auto reason = place->cannotChange()) {
            if (place->status(std::nullopt).state == TrustState::Outdated) {
                session.warn("cannot remove it from " + where + ": " + *reason);
                result = ExitCode::LocalIo;
            }
            continue;
        }
        try {
            session.out() << (place->remove() ? "removed from " : "not in ") << where << '\n';
        } catch (const Failure& failure) {
            session.warn(failure.what());
            result = failure.code();
        }
    }
    if (result == ExitCode::Ok) session.note("Restart the browsers that are running so that they read the change.");
    return result;
}

}  // namespace

void addTrustCommands(Commands& commands)
{
    CLI::App& trust = commands.group(commands.root(), "trust",
                                     "Make browsers and the system trust inkand's local CA (or stop trusting it)");
    trust.footer(
        "Places: the system store (/usr/local/share/ca-certificates, only as root), the NSS database\n"
        "~/.pki/nssdb (Chrome, Chromium) and every Firefox profile. The CA is stored under the name\n"
        "\"inkan local CA\", trusted only to issue TLS server certificates.");

    auto options = std::make_shared<TrustOptions>();
    auto addNssdbOption = [options](CLI::App& command) {
        command.add_option("--nssdb", options->nssdb, "Act on this one NSS database directory only (sql: format)");
    };
    addNssdbOption(commands.add(trust, "install", "Add the local CA to every place (replaces an outdated one)",
                                [options](Session& session) { return install(session, *options); }));
    addNssdbOption(commands.add(trust, "uninstall", "Remove the local CA from every place it was put",
                                [options](Session& session) { return uninstall(session, *options); }));
    addNssdbOption(commands.add(trust, "status", "Show where the local CA is trusted and where not",
                                [options](Session& session) { return status(session, *options); }));
}

}  // namespace inkan::cli
