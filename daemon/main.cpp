// inkand — the inkan signing agent: serves the smart card over HTTPS on the
// loopback interface (design.md). Start-up order: configuration, state
// directory (token, TLS), listening sockets, card service; "inkand ready" is
// the last line printed once requests can be served.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <variant>

#include "api/api.hpp"
#include "api/log.hpp"
#include "api/server.hpp"
#include "daemon/config.hpp"
#include "daemon/service/card_service.hpp"
#include "daemon/state.hpp"
#include "inkan/version.hpp"

namespace {

int serve(const inkan::config::Config& config)
{
    using namespace inkan;

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
    api::HttpsServer server(std::move(serverOptions));

    service::CardServiceOptions serviceOptions;
    serviceOptions.log = [](std::string_view line) { log::info(line); };
    std::unique_ptr<CardAgent> agent = service::makeCardService(std::move(serviceOptions));
    // However serving ends, the card workers stop before the agent is destroyed.
    struct AgentShutdown {
        CardAgent& agent;
        ~AgentShutdown() { agent.shutdown(); }
    } agentShutdown{*agent};

    api::GateOptions gate;
    gate.port = config.port;
    gate.allowedOrigins = config.allowedOrigins;
    gate.token = std::move(token.value);
    const api::Api api(*agent, std::move(gate), kVersion);

    for (const auto& url : server.urls()) std::cout << "inkand: serving " << url << "/v1\n";
    std::cout << "inkand: API token in " << paths.token.string() << "\n";
    std::cout << "inkand: CA certificate in " << paths.caCertificate.string() << "\n";
    for (const auto& origin : config.allowedOrigins) std::cout << "inkand: allowed origin " << origin << "\n";
    std::cout << "inkand ready" << std::endl;

    const int exitCode = server.run(api, [&agent] { agent->shutdown(); });
    log::info("stopped");
    return exitCode;
}

}  // namespace

int main(int argc, char** argv)
{
    // Writes to a closed socket must surface as errors, not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);

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
    } catch (const std::exception& e) {
        std::cerr << "inkand: cannot start: " << e.what() << "\n";
    }
    return 1;
}
