// inkand — the inkan signing agent: serves the smart card over HTTPS on the
// loopback interface (design.md). Start-up order: configuration, state
// directory (token, TLS), listening sockets (bound, or passed by the service
// manager), card service; "inkand ready" is the last line printed once
// requests can be served, and the service manager is told so too
// (docs/service.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/api.hpp"
#include "api/log.hpp"
#include "api/server.hpp"
#include "daemon/audit/ledger.hpp"
#include "daemon/audit/system_log.hpp"
#include "daemon/config.hpp"
#include "daemon/credentials/combined_agent.hpp"
#include "daemon/pkcs11/helper_module.hpp"
#include "daemon/pkcs11/pkcs11_tokens.hpp"
#include "daemon/platform/peer_uid.hpp"
#include "daemon/platform/process.hpp"
#include "daemon/platform/service_manager.hpp"
#include "daemon/security/security.hpp"
#include "daemon/service/card_service.hpp"
#include "daemon/service/event_bus.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/state.hpp"
#include "inkan/version.hpp"

namespace {

/// The configuration's certificate checks as the checker takes them.
inkan::service::CertificateCheckOptions certificateCheckOptions(const inkan::config::Config& config)
{
    using inkan::cert::RevocationMethod;
    inkan::service::CertificateCheckOptions options;
    options.trustAnchorsDir = config.trustAnchorsDir;
    options.revocationEnabled = config.revocation.enabled;
    options.revocation.order.clear();
    for (const auto& method : config.revocation.order) {
        options.revocation.order.push_back(method == "crl" ? RevocationMethod::Crl : RevocationMethod::Ocsp);
    }
    options.revocation.ocspUrl = config.revocation.ocspUrl;
    options.revocation.crlUrl = config.revocation.crlUrl;
    options.revocation.timeout = std::chrono::seconds(config.revocation.timeoutSeconds);
    return options;
}

// Without a watchdog, the service manager's status line is still refreshed this often.
constexpr std::chrono::milliseconds kStatusRefreshInterval{1000};

/// The service manager's one-line status (`systemctl --user status inkand`).
std::string statusLine(const inkan::AgentStatus& status)
{
    if (!status.pcscAvailable) return "serving; PC/SC unavailable (is pcscd running?)";
    std::size_t cards = 0;
    for (const auto& reader : status.readers) cards += reader.cardPresent ? 1 : 0;
    return "serving; " + std::to_string(cards) + (cards == 1 ? " card" : " cards") + " present in " +
           std::to_string(status.readers.size()) + (status.readers.size() == 1 ? " reader" : " readers");
}

/// Ask the card service for readers and cards and pass the status line on.
void reportStatus(inkan::CardAgent& agent)
{
    agent.status([](inkan::Outcome<inkan::AgentStatus> outcome) {
        if (const auto* status = std::get_if<inkan::AgentStatus>(&outcome)) inkan::platform::notifyStatus(statusLine(*status));
    });
}

/// The heartbeat interval for the service manager: half the watchdog's
/// (sd_watchdog_enabled(3) advises pinging at half the interval), at most
/// kStatusRefreshInterval; zero when no service manager listens.
std::chrono::milliseconds heartbeatInterval()
{
    if (!inkan::platform::serviceManagerListening()) return std::chrono::milliseconds(0);
    auto interval = kStatusRefreshInterval;
    if (const auto watchdog = inkan::platform::watchdogInterval()) {
        interval = std::min(interval, std::max(std::chrono::milliseconds(1),
                                               std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog / 2)));
    }
    return interval;
}

int serve(const inkan::config::Config& config)
{
    using namespace inkan;

    // Before anything else opens a descriptor: the sockets passed by systemd
    // (socket activation), if any; otherwise the server binds its own.
    const std::vector<int> inheritedSockets = platform::takeListeningSockets();

    for (const auto& warning : config.warnings) log::warn(warning);

    const state::StatePaths paths = state::prepareStateDir(state::resolveStateDir(config.stateDir));
    state::Token token = state::loadOrCreateToken(paths);
    if (token.created) log::info("created a new API token in " + paths.token.string());
    const state::TlsStatus tls = state::ensureTlsMaterial(paths);
    if (tls.replacedCa) {
        log::warn("replaced the TLS material (" + tls.reason + "): browsers must trust the new " +
                  paths.caCertificate.string());
    } else if (tls.regenerated) {
        log::info("created the local CA " + paths.caCertificate.string() + " for browsers to trust");
    }

    api::ServerOptions serverOptions;
    serverOptions.port = config.port;
    serverOptions.certificateFile = paths.serverCertificate;
    serverOptions.privateKeyFile = paths.serverKey;
    serverOptions.allowRootClients = config.allowRootClients;
    serverOptions.inheritedSockets = inheritedSockets;
    if (config.idleExitSeconds > 0 && !inheritedSockets.empty()) {
        serverOptions.idleExit = std::chrono::seconds(config.idleExitSeconds);
    } else if (config.idleExitSeconds > 0) {
        log::info("\"idleExitSeconds\" applies only when the service manager passes the sockets; serving until stopped");
    }
    const platform::UserId user = serverOptions.user;
    // Watchdog pings and status lines come from the I/O loop: a hung loop stops them.
    // The status line follows the readers and cards: any event makes the
    // next heartbeat ask the card service again. Both are set before run()
    // and cleared by the drain, after the heartbeat has stopped.
    std::unique_ptr<service::Subscription> statusEvents;
    CardAgent* statusAgent = nullptr;
    const bool watchdog = platform::watchdogInterval().has_value();
    serverOptions.heartbeatInterval = heartbeatInterval();
    serverOptions.heartbeat = [watchdog, &statusEvents, &statusAgent] {
        if (watchdog) platform::notifyWatchdog();
        if (statusEvents && statusAgent != nullptr && !statusEvents->take().events.empty()) reportStatus(*statusAgent);
    };
    api::HttpsServer server(std::move(serverOptions));

    // Validations and self-tests block on OCSP responders and CRL servers:
    // they get their own threads (never the I/O thread, never a card worker).
    // Created before the card service: card completions hand work to it
    // until the service has stopped.
    service::CertificateChecker checker(certificateCheckOptions(config));
    log::info("trust anchors: " + (config.trustAnchorsDir.empty() ? std::string("none configured") : config.trustAnchorsDir.string())
              + "; revocation checking " + (config.revocation.enabled ? "on" : "off"));

    // Before the card service, which publishes the readers and cards it finds at once.
    auto events = std::make_shared<service::EventBus>();

    service::CardServiceOptions serviceOptions;
    serviceOptions.log = [](std::string_view line) { log::info(line); };
    serviceOptions.events = events;
    serviceOptions.certificateExpiryWarningDays = config.certificateExpiryWarningDays;
    std::unique_ptr<CardAgent> readers = service::makeCardService(std::move(serviceOptions));
    // PKCS#12 files and PKCS#11 tokens beside the cards in readers (docs/credentials.md).
    credentials::FileCredentials files(paths.dir / "keys", service::CardEvents(events, config.certificateExpiryWarningDays));
    std::vector<credentials::CardSource> sources{credentials::sourceOf(files)};
    std::vector<std::unique_ptr<pkcs11::Pkcs11Tokens>> tokens;
    for (const auto& module : config.pkcs11Modules) {
        pkcs11::HelperOptions helper;
        helper.helper = pkcs11::defaultHelperPath();
        helper.module = module;
        helper.timeout = std::chrono::seconds(config.pkcs11TimeoutSeconds);
        helper.log = [](std::string_view line) { log::warn(line); };
        auto loaded = std::make_unique<pkcs11::HelperModule>(std::move(helper));
        log::info("PKCS#11 module " + module.string() + ": " + loaded->description());
        pkcs11::TokensOptions options;
        options.log = [](std::string_view line) { log::info(line); };
        options.events = events;
        tokens.push_back(std::make_unique<pkcs11::Pkcs11Tokens>(std::move(loaded), std::move(options)));
        sources.push_back(credentials::sourceOf(*tokens.back()));
    }
    credentials::CombinedAgent combined(*readers, std::move(sources));
    CardAgent* const agent = &combined;
    // However serving ends, the card workers stop before the agent is destroyed.
    struct AgentShutdown {
        CardAgent& agent;
        ~AgentShutdown() { agent.shutdown(); }
    } agentShutdown{*agent};

    api::CertificateServices certificates;
    certificates.checker = &checker;
    certificates.expiry.warningDays = config.certificateExpiryWarningDays;

    // Who may do what: allowlisted and paired origins, the PIN guard, PIN dialogs (docs/security.md).
    security::SecurityOptions securityOptions;
    securityOptions.settings = config.security;
    securityOptions.pairingsFile = paths.dir / "pairings.json";
    securityOptions.log = [](std::string_view line) { log::info(line); };
    auto security = std::make_shared<security::Security>(*agent, std::move(securityOptions));

    api::GateOptions gate;
    gate.port = server.port();  // the passed sockets' port under socket activation
    gate.allowedOrigins = config.allowedOrigins;
    gate.token = std::move(token.value);
    gate.pairings = security->sharedPairings();
    gate.allowInsecureLocalhostOrigins = config.security.allowInsecureLocalhostOrigins;
    // The 使用簿 (docs/audit.md): every record is copied to the system log too
    // (config audit.mirror).
    audit::LedgerOptions ledgerOptions;
    ledgerOptions.dir = config.audit.dir.empty() ? paths.dir / "audit" : config.audit.dir;
    ledgerOptions.segmentBytes = config.audit.segmentBytes;
    ledgerOptions.keepSegments = config.audit.keepSegments;
    ledgerOptions.mirror = audit::makeMirror(
        audit::mirrorTargetFromName(config.audit.mirror).value_or(audit::MirrorTarget::Syslog),
        [](std::string_view line) { log::info(line); }, [](std::string_view line) { log::warn(line); });
    auto ledger = std::make_shared<audit::Ledger>(std::move(ledgerOptions));

    const api::Api api(*agent, std::move(gate), kVersion, events.get(), std::move(certificates), security, ledger, &files);

    for (const auto& url : server.urls()) std::cout << "inkand: serving " << url << "/v1\n";
    std::cout << "inkand: API token in " << paths.token.string() << "\n";
    std::cout << "inkand: CA certificate in " << paths.caCertificate.string() << "\n";
    std::cout << "inkand: connections of uid " << user << (config.allowRootClients && !platform::isAdministrator(user) ? " and root" : "")
              << " only\n";
    for (const auto& origin : config.allowedOrigins) std::cout << "inkand: allowed origin " << origin << "\n";
    for (const auto& paired : security->pairings().paired()) {
        std::cout << "inkand: paired origin " << paired.grant.origin << "\n";
    }
    if (config.security.allowInsecureLocalhostOrigins) {
        log::warn("--allow-insecure-localhost-origins: http://localhost and http://127.0.0.1 pages may be allowed (development only)");
    }
    std::cout << "inkand: PIN dialogs " << (security->dialogsAvailable() ? "by " + config.security.pinentryProgram->string() : std::string("off (no pinentry program)")) << "\n";
    std::cout << "inkand: usage ledger in " << ledger->dir().string() << "\n";
    std::cout << "inkand ready" << std::endl;

    if (platform::serviceManagerListening()) {
        statusEvents = events->subscribe(std::nullopt, [] {});  // read by the heartbeat
        statusAgent = agent;
    }
    platform::notifyReady(inheritedSockets.empty() ? "serving" : "serving (socket-activated)");
    if (platform::serviceManagerListening()) reportStatus(*agent);

    const int exitCode = server.run(api, [&agent, &checker, &events, &statusAgent, &statusEvents] {
        platform::notifyStopping();
        statusAgent = nullptr;
        statusEvents.reset();
        agent->shutdown();
        checker.shutdown();
        events->close();  // ends the event streams; their readers reconnect to the next inkand
    });
    log::info("stopped");
    return exitCode;
}

}  // namespace

int main(int argc, char** argv)
{
    inkan::platform::ignoreBrokenPipes();

    try {
        auto loaded = inkan::config::load(argc, argv);
        if (auto* early = std::get_if<inkan::config::EarlyExit>(&loaded)) {
            (early->code == 0 ? std::cout : std::cerr) << early->output << std::flush;
            return early->code;
        }
        return serve(std::get<inkan::config::Config>(loaded));
    } catch (const inkan::config::ConfigError& e) {
        std::cerr << "inkand: " << e.what() << "\n";
    } catch (const inkan::state::StateError& e) {
        std::cerr << "inkand: " << e.what() << "\n";
    } catch (const inkan::api::StartupError& e) {
        std::cerr << "inkand: " << e.what() << "\n";
    } catch (const inkan::pkcs11::ModuleLoadError& e) {
        std::cerr << "inkand: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "inkand: cannot start: " << e.what() << "\n";
    }
    return 1;
}
