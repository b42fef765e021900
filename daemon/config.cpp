#include "daemon/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "inkan/version.hpp"

namespace inkan::config {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPortKey = "port";
constexpr std::string_view kAllowedOriginsKey = "allowedOrigins";

constexpr int kMinPort = 1;
constexpr int kMaxPort = 65535;

// RFC 6454 §4: the default ports a browser leaves out of a serialized origin.
constexpr int kHttpsDefaultPort = 443;
constexpr int kHttpDefaultPort = 80;

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool isHostChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

void applyFile(Config& config, const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError("cannot read the config file " + file.string());
    std::ostringstream content;
    content << in.rdbuf();

    nlohmann::json json;
    try {
        json = nlohmann::json::parse(content.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw ConfigError("the config file " + file.string() + " is not valid JSON: " + e.what());
    }
    if (!json.is_object()) throw ConfigError("the config file " + file.string() + " must hold a JSON object");

    const std::string where = "config file " + file.string();
    for (const auto& [key, value] : json.items()) {
        if (key == kPortKey) {
            if (!value.is_number_integer() || value.get<long long>() < kMinPort || value.get<long long>() > kMaxPort) {
                throw ConfigError(where + ": \"port\" must be an integer from 1 to 65535");
            }
            config.port = static_cast<std::uint16_t>(value.get<long long>());
        } else if (key == kAllowedOriginsKey) {
            if (!value.is_array()) throw ConfigError(where + ": \"allowedOrigins\" must be an array of origins");
            config.allowedOrigins.clear();
            for (const auto& origin : value) {
                if (!origin.is_string()) throw ConfigError(where + ": \"allowedOrigins\" must hold strings");
                config.allowedOrigins.push_back(normalizeOrigin(origin.get<std::string>(), where));
            }
        } else {
            config.warnings.push_back(where + ": unknown key \"" + key + "\" ignored");
        }
    }
}

void deduplicate(std::vector<std::string>& origins)
{
    std::vector<std::string> unique;
    for (auto& origin : origins) {
        if (std::find(unique.begin(), unique.end(), origin) == unique.end()) unique.push_back(std::move(origin));
    }
    origins = std::move(unique);
}

}  // namespace

std::string normalizeOrigin(std::string_view origin, std::string_view source)
{
    const auto invalid = [&](const std::string& why) {
        return ConfigError(std::string(source) + ": invalid origin \"" + std::string(origin) + "\": " + why);
    };
    if (origin == "*" || origin == "null") throw invalid("only concrete origins can be allowed");

    const std::size_t separator = origin.find("://");
    if (separator == std::string_view::npos) throw invalid("expected scheme://host[:port]");
    const std::string scheme = lower(origin.substr(0, separator));
    if (scheme != "https" && scheme != "http") throw invalid("the scheme must be https or http");

    std::string_view rest = origin.substr(separator + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // a pasted "https://portal.example/"
    if (rest.find_first_of("/?#@\\") != std::string_view::npos) throw invalid("an origin has no path, query, fragment or user");

    std::string host;
    std::string_view portText;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) throw invalid("unterminated IPv6 address");
        host = lower(rest.substr(0, close + 1));
        const std::string_view inner = std::string_view(host).substr(1, host.size() - 2);
        if (inner.empty() || inner.find_first_not_of("0123456789abcdef:.") != std::string_view::npos) {
            throw invalid("malformed IPv6 address");
        }
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw invalid("unexpected text after the IPv6 address");
            portText = rest.substr(1);
        }
    } else {
        const std::size_t colon = rest.find(':');
        host = lower(rest.substr(0, colon));
        if (colon != std::string_view::npos) portText = rest.substr(colon + 1);
        if (host.empty()) throw invalid("the host is missing");
        if (!std::all_of(host.begin(), host.end(), isHostChar)) {
            throw invalid("the host must be ASCII (write international names in their xn-- form)");
        }
    }

    std::string serialized = scheme + "://" + host;
    if (!portText.empty() || rest.find(':') != std::string_view::npos) {
        if (portText.empty() || portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string_view::npos) {
            throw invalid("the port must be a number from 1 to 65535");
        }
        const int port = std::stoi(std::string(portText));
        if (port < kMinPort || port > kMaxPort) throw invalid("the port must be a number from 1 to 65535");
        const int defaultPort = scheme == "https" ? kHttpsDefaultPort : kHttpDefaultPort;
        if (port != defaultPort) serialized += ":" + std::to_string(port);
    }
    return serialized;
}

fs::path defaultConfigFile(const state::Environment& environment)
{
    if (auto file = environment("INKAN_CONFIG")) return fs::path(*file);
    if (auto xdg = environment("XDG_CONFIG_HOME"); xdg && fs::path(*xdg).is_absolute()) {
        return fs::path(*xdg) / "inkan" / "inkand.json";
    }
    if (auto home = environment("HOME")) return fs::path(*home) / ".config" / "inkan" / "inkand.json";
    return {};
}

std::variant<Config, EarlyExit> load(int argc, const char* const* argv, const state::Environment& environment)
{
    CLI::App app{"inkand: the inkan signing agent. Serves the smart card over HTTPS on the loopback interface.", "inkand"};
    app.set_version_flag("--version", std::string("inkand ") + kVersion);

    int port = kDefaultPort;
    std::string stateDir;
    std::string configFile;
    std::vector<std::string> origins;
    auto* portOption = app.add_option("--port", port, "TCP port on 127.0.0.1 and [::1] (default 24713)")
                           ->check(CLI::Range(kMinPort, kMaxPort));
    auto* stateOption = app.add_option("--state-dir", stateDir, "Directory for the API token and TLS files");
    auto* configOption = app.add_option("--config", configFile, "JSON config file (keys: port, allowedOrigins)");
    auto* originOption = app.add_option("--allow-origin", origins,
                                        "A web origin (https://host[:port]) whose pages may use inkand; repeatable")
                             ->allow_extra_args(false);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::ostringstream out;
        std::ostringstream err;
        const int code = app.exit(e, out, err);
        return EarlyExit{code, out.str() + err.str()};
    }

    Config config;
    config.configFile = configOption->count() ? fs::path(configFile) : defaultConfigFile(environment);
    std::error_code ec;
    if (!config.configFile.empty() && fs::exists(config.configFile, ec)) {
        applyFile(config, config.configFile);
        config.configFileFound = true;
    } else if (configOption->count()) {
        // Named explicitly: a typo should not silently fall back to the defaults.
        throw ConfigError("the config file " + configFile + " does not exist");
    }

    if (portOption->count()) config.port = static_cast<std::uint16_t>(port);
    if (originOption->count()) {
        config.allowedOrigins.clear();
        for (const auto& origin : origins) config.allowedOrigins.push_back(normalizeOrigin(origin, "--allow-origin"));
    }
    deduplicate(config.allowedOrigins);
    if (stateOption->count()) config.stateDir = fs::path(stateDir);
    return config;
}

}  // namespace inkan::config
