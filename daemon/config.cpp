#include "daemon/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "daemon/audit/system_log.hpp"
#include "daemon/cert/http_fetch.hpp"
#include "daemon/security/origin.hpp"
#include "inkan/version.hpp"

namespace inkan::config {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPortKey = "port";
constexpr std::string_view kAllowRootClientsKey = "allowRootClients";
constexpr std::string_view kExpiryWarningDaysKey = "certificateExpiryWarningDays";
constexpr std::string_view kTrustAnchorsDirKey = "trustAnchorsDir";
constexpr std::string_view kRevocationKey = "revocation";
constexpr std::string_view kAuditKey = "audit";
constexpr std::string_view kIdleExitSecondsKey = "idleExitSeconds";
constexpr std::string_view kPkcs11ModulesKey = "pkcs11Modules";
constexpr std::string_view kPkcs11TimeoutKey = "pkcs11TimeoutSeconds";
constexpr int kMinPkcs11TimeoutSeconds = 1;
constexpr int kMaxPkcs11TimeoutSeconds = 600;
// A day: longer than that is "never" in all but name.
constexpr int kMaxIdleExitSeconds = 24 * 60 * 60;
// A segment holds at least a few records; over 1 GiB one file gets unwieldy to copy or verify.
constexpr int kMinAuditSegmentBytes = 4096;
constexpr int kMaxAuditSegmentBytes = 1024 * 1024 * 1024;
constexpr int kMaxAuditSegments = 1000000;
constexpr std::string_view kTrustAnchorsDefaultName = "trust-anchors";

// Bounds that catch typos without second-guessing a policy: certificates of
// the registry live at most 27 months; a warning over ~3 years means nothing.
constexpr int kMaxExpiryWarningDays = 1000;
constexpr int kMinRevocationTimeoutSeconds = 1;
constexpr int kMaxRevocationTimeoutSeconds = 120;
constexpr std::string_view kOcspMethod = "ocsp";
constexpr std::string_view kCrlMethod = "crl";

constexpr int kMinPort = 1;
constexpr int kMaxPort = 65535;

int integerIn(const nlohmann::json& value, int low, int high, const std::string& what)
{
    if (!value.is_number_integer() || value.get<long long>() < low || value.get<long long>() > high) {
        throw ConfigError(what + " must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
    }
    return static_cast<int>(value.get<long long>());
}

/// An OCSP or CRL URL inkand may fetch (plain http://, see http_fetch.hpp); null clears it.
std::optional<std::string> revocationUrl(const nlohmann::json& value, const std::string& what)
{
    if (value.is_null()) return std::nullopt;
    if (!value.is_string() || !cert::http::isFetchableUrl(value.get<std::string>())) {
        throw ConfigError(what + " must be an http:// URL (OCSP answers and CRLs are signed; https is not fetched)");
    }
    return value.get<std::string>();
}

void applyRevocation(Config& config, const nlohmann::json& json, const std::string& where)
{
    const std::string prefix = where + ": \"revocation\"";
    if (!json.is_object()) throw ConfigError(prefix + " must be an object");
    RevocationSettings& settings = config.revocation;
    for (const auto& [key, value] : json.items()) {
        const std::string what = prefix + "." + key;
        if (key == "enabled") {
            if (!value.is_boolean()) throw ConfigError(what + " must be true or false");
            settings.enabled = value.get<bool>();
        } else if (key == "order") {
            if (!value.is_array() || value.empty()) throw ConfigError(what + " must be a non-empty array of \"ocsp\" and \"crl\"");
            settings.order.clear();
            for (const auto& method : value) {
                if (!method.is_string() || (method != kOcspMethod && method != kCrlMethod)) {
                    throw ConfigError(what + " may hold only \"ocsp\" and \"crl\"");
                }
                if (std::find(settings.order.begin(), settings.order.end(), method.get<std::string>()) != settings.order.end()) {
                    throw ConfigError(what + " names \"" + method.get<std::string>() + "\" twice");
                }
                settings.order.push_back(method.get<std::string>());
            }
        } else if (key == "ocspUrl") {
            settings.ocspUrl = revocationUrl(value, what);
        } else if (key == "crlUrl") {
            settings.crlUrl = revocationUrl(value, what);
        } else if (key == "timeoutSeconds") {
            settings.timeoutSeconds = integerIn(value, kMinRevocationTimeoutSeconds, kMaxRevocationTimeoutSeconds, what);
        } else {
            config.warnings.push_back(what + ": unknown key ignored");
        }
    }
}

/// A key of the security policy (security::applyConfigKey), its errors as ConfigError.
bool applySecurityKey(security::PolicySettings& settings, std::string_view key, const nlohmann::json& value,
                      const std::string& where)
{
    try {
        return security::applyConfigKey(settings, key, value, where);
    } catch (const security::PolicyError& e) {
        throw ConfigError(e.what());
    }
}

void applyAudit(Config& config, const nlohmann::json& value, const fs::path& file, const std::string& where)
{
    if (!value.is_object()) throw ConfigError(where + ": \"audit\" must be an object");
    for (const auto& [key, member] : value.items()) {
        const std::string what = where + ": \"audit\": \"" + key + "\"";
        if (key == "dir") {
            if (!member.is_string() || member.get<std::string>().empty()) throw ConfigError(what + " must be a directory path");
            const fs::path dir(member.get<std::string>());
            config.audit.dir = dir.is_absolute() ? dir : file.parent_path() / dir;
        } else if (key == "segmentBytes") {
            config.audit.segmentBytes = static_cast<std::uint64_t>(integerIn(member, kMinAuditSegmentBytes, kMaxAuditSegmentBytes, what));
        } else if (key == "keepSegments") {
            config.audit.keepSegments = integerIn(member, 0, kMaxAuditSegments, what);
        } else if (key == "mirror") {
            if (!member.is_string() || !audit::mirrorTargetFromName(member.get<std::string>())) {
                throw ConfigError(what + " must be \"syslog\", \"stderr\" or \"off\"");
            }
            config.audit.mirror = member.get<std::string>();
        } else {
            config.warnings.push_back(what + ": unknown key ignored");
        }
    }
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
            config.port = static_cast<std::uint16_t>(integerIn(value, kMinPort, kMaxPort, where + ": \"port\""));
        } else if (key == kAllowRootClientsKey) {
            if (!value.is_boolean()) throw ConfigError(where + ": \"allowRootClients\" must be true or false");
            config.allowRootClients = value.get<bool>();
        } else if (applySecurityKey(config.security, key, value, where)) {
            // allowedOrigins and the other keys of docs/security.md: daemon/security/policy.cpp.
        } else if (key == kExpiryWarningDaysKey) {
            config.certificateExpiryWarningDays =
                integerIn(value, 0, kMaxExpiryWarningDays, where + ": \"" + std::string(kExpiryWarningDaysKey) + "\"");
        } else if (key == kTrustAnchorsDirKey) {
            if (!value.is_string() || value.get<std::string>().empty()) {
                throw ConfigError(where + ": \"trustAnchorsDir\" must be a directory path");
            }
            // Relative to the config file, so a config directory can be moved as a whole.
            const fs::path dir(value.get<std::string>());
            config.trustAnchorsDir = dir.is_absolute() ? dir : file.parent_path() / dir;
        } else if (key == kRevocationKey) {
            applyRevocation(config, value, where);
        } else if (key == kAuditKey) {
            applyAudit(config, value, file, where);
        } else if (key == kPkcs11ModulesKey) {
            const std::string what = where + ": \"" + std::string(kPkcs11ModulesKey) + "\"";
            if (!value.is_array()) throw ConfigError(what + " must be an array of module paths");
            config.pkcs11Modules.clear();
            for (const auto& path : value) {
                if (!path.is_string() || path.get<std::string>().empty()) throw ConfigError(what + " may hold only module paths");
                // Relative to the config file, as trustAnchorsDir.
                const fs::path module(path.get<std::string>());
                config.pkcs11Modules.push_back(module.is_absolute() ? module : file.parent_path() / module);
            }
        } else if (key == kPkcs11TimeoutKey) {
            config.pkcs11TimeoutSeconds = integerIn(value, kMinPkcs11TimeoutSeconds, kMaxPkcs11TimeoutSeconds,
                                                    where + ": \"" + std::string(kPkcs11TimeoutKey) + "\"");
        } else if (key == kIdleExitSecondsKey) {
            config.idleExitSeconds =
                integerIn(value, 0, kMaxIdleExitSeconds, where + ": \"" + std::string(kIdleExitSecondsKey) + "\"");
        } else {
            config.warnings.push_back(where + ": unknown key \"" + key + "\" ignored");
        }
    }
}

}  // namespace

std::string normalizeOrigin(std::string_view origin, std::string_view source)
{
    try {
        return security::normalizeOrigin(origin);
    } catch (const security::OriginSyntaxError& e) {
        throw ConfigError(std::string(source) + ": invalid origin \"" + std::string(origin) + "\": " + e.what());
    }
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
    auto* configOption = app.add_option("--config", configFile, "JSON config file (keys: port, allowedOrigins, allowRootClients, certificateExpiryWarningDays, trustAnchorsDir, revocation, audit, idleExitSeconds, pkcs11Modules, pkcs11TimeoutSeconds)");
    auto* originOption = app.add_option("--allow-origin", origins,
                                        "A web origin (https://host[:port]) whose pages may use inkand; repeatable")
                             ->allow_extra_args(false);
    std::vector<std::string> modules;
    auto* moduleOption = app.add_option("--pkcs11-module", modules,
                                        "A PKCS#11 module (.so) whose tokens are listed as cards; repeatable; "
                                        "replaces the config's pkcs11Modules")
                             ->allow_extra_args(false);
    bool insecureLocalhost = false;
    app.add_flag("--allow-insecure-localhost-origins", insecureLocalhost,
                 "Development only: let http://localhost:PORT and http://127.0.0.1:PORT be allowed origins");

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

    if (config.trustAnchorsDir.empty() && !config.configFile.empty()) {
        config.trustAnchorsDir = config.configFile.parent_path() / kTrustAnchorsDefaultName;
    }

    if (portOption->count()) config.port = static_cast<std::uint16_t>(port);
    if (originOption->count()) {
        config.security.allowedOrigins.clear();
        for (const auto& origin : origins) {
            security::OriginGrant grant;
            grant.origin = normalizeOrigin(origin, "--allow-origin");
            const auto same = [&](const security::OriginGrant& other) { return other.origin == grant.origin; };
            if (std::none_of(config.security.allowedOrigins.begin(), config.security.allowedOrigins.end(), same)) {
                config.security.allowedOrigins.push_back(std::move(grant));
            }
        }
    }
    if (insecureLocalhost) config.security.allowInsecureLocalhostOrigins = true;
    if (moduleOption->count()) config.pkcs11Modules.assign(modules.begin(), modules.end());
    // One helper per module: a module named twice is loaded once.
    std::vector<fs::path> unique;
    for (auto& module : config.pkcs11Modules) {
        if (std::find(unique.begin(), unique.end(), module) == unique.end()) unique.push_back(std::move(module));
    }
    config.pkcs11Modules = std::move(unique);
    try {
        security::validate(config.security);
    } catch (const security::PolicyError& e) {
        throw ConfigError(e.what());
    }
    config.allowedOrigins.clear();
    for (const auto& grant : config.security.allowedOrigins) config.allowedOrigins.push_back(grant.origin);
    if (stateOption->count()) config.stateDir = fs::path(stateDir);
    return config;
}

}  // namespace inkan::config
