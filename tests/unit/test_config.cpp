// inkand's configuration: defaults, config file, command line, and where the
// config file and state directory are looked for.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/temp_dir.hpp"
#include "daemon/config.hpp"
#include "daemon/state.hpp"

using namespace inkan;
using namespace inkan::config;
namespace fs = std::filesystem;

namespace {

/// A temporary directory removed at scope exit.
using inkan::test::TempDir;

state::Environment environment(std::map<std::string, std::string> values)
{
    return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        const auto it = values.find(std::string(name));
        if (it == values.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
}

void writeFile(const fs::path& path, const std::string& content)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
}

std::variant<Config, EarlyExit> run(std::vector<std::string> args, const state::Environment& env)
{
    args.insert(args.begin(), "inkand");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return load(static_cast<int>(argv.size()), argv.data(), env);
}

Config configOf(std::vector<std::string> args, const state::Environment& env)
{
    auto result = run(std::move(args), env);
    REQUIRE(std::holds_alternative<Config>(result));
    return std::get<Config>(std::move(result));
}

}  // namespace

TEST_SUITE("config")
{
    TEST_CASE("without file or options: port 24713, no allowed origins")
    {
        TempDir dir;
        const Config config = configOf({}, environment({{"HOME", dir.path.string()}}));
        CHECK(config.port == 24713);
        CHECK(config.allowedOrigins.empty());
        CHECK_FALSE(config.stateDir.has_value());
        CHECK_FALSE(config.configFileFound);
        CHECK(config.configFile == dir.path / ".config" / "inkan" / "inkand.json");
        CHECK_FALSE(config.allowRootClients);
    }

    TEST_CASE("allowRootClients admits root's connections; only true or false")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, R"({"allowRootClients": true})");
        CHECK(configOf({}, environment({{"INKAN_CONFIG", file.string()}})).allowRootClients);
        writeFile(file, R"({"allowRootClients": false})");
        CHECK_FALSE(configOf({}, environment({{"INKAN_CONFIG", file.string()}})).allowRootClients);
        for (const char* content : {R"({"allowRootClients": "true"})", R"({"allowRootClients": 1})",
                                    R"({"allowRootClients": null})"}) {
            CAPTURE(content);
            writeFile(file, content);
            try {
                run({}, environment({{"INKAN_CONFIG", file.string()}}));
                FAIL("no error");
            } catch (const ConfigError& e) {
                CHECK(std::string(e.what()).find("\"allowRootClients\" must be true or false") != std::string::npos);
            }
        }
    }

    TEST_CASE("the config file sets port and allowed origins")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, R"({"port": 25000, "allowedOrigins": ["https://Portal.Example.jp", "http://localhost:3000"],
                             "allowInsecureLocalhostOrigins": true})");
        const Config config = configOf({}, environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(config.configFileFound);
        CHECK(config.port == 25000);
        CHECK(config.allowedOrigins == std::vector<std::string>{"https://portal.example.jp", "http://localhost:3000"});
        CHECK(config.warnings.empty());
    }

    TEST_CASE("the command line wins over the file")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, R"({"port": 25000, "allowedOrigins": ["https://file.example"]})");
        const Config config = configOf({"--port", "26000", "--allow-origin", "https://a.example", "--allow-origin",
                                        "https://b.example:8443", "--state-dir", "/x/state"},
                                       environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(config.port == 26000);
        CHECK(config.allowedOrigins == std::vector<std::string>{"https://a.example", "https://b.example:8443"});
        CHECK(config.stateDir == std::optional<fs::path>("/x/state"));
    }

    TEST_CASE("options not given on the command line keep the file's values")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, R"({"port": 25000, "allowedOrigins": ["https://file.example"]})");
        const Config config = configOf({"--port", "26000"}, environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(config.allowedOrigins == std::vector<std::string>{"https://file.example"});
        const Config other = configOf({"--allow-origin", "https://a.example"}, environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(other.port == 25000);
    }

    TEST_CASE("--config names the file, over the environment")
    {
        TempDir dir;
        writeFile(dir.path / "a.json", R"({"port": 1111})");
        writeFile(dir.path / "b.json", R"({"port": 2222})");
        const Config config = configOf({"--config", (dir.path / "b.json").string()},
                                       environment({{"INKAN_CONFIG", (dir.path / "a.json").string()}}));
        CHECK(config.port == 2222);
    }

    TEST_CASE("the default config file: INKAN_CONFIG, else XDG_CONFIG_HOME, else HOME")
    {
        CHECK(defaultConfigFile(environment({{"INKAN_CONFIG", "/c/x.json"}, {"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/h"}})) ==
              "/c/x.json");
        CHECK(defaultConfigFile(environment({{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/h"}})) == "/xdg/inkan/inkand.json");
        CHECK(defaultConfigFile(environment({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}})) ==
              "/h/.config/inkan/inkand.json");
        CHECK(defaultConfigFile(environment({{"HOME", "/h"}})) == "/h/.config/inkan/inkand.json");
    }

    TEST_CASE("a missing default file is fine; a missing --config file is an error")
    {
        TempDir dir;
        CHECK_NOTHROW(configOf({}, environment({{"INKAN_CONFIG", (dir.path / "absent.json").string()}})));
        CHECK_THROWS_AS(run({"--config", (dir.path / "absent.json").string()}, environment({})), ConfigError);
    }

    TEST_CASE("bad JSON is a startup error naming the file")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, "{\"port\": 25000,,}");
        try {
            run({}, environment({{"INKAN_CONFIG", file.string()}}));
            FAIL("no error");
        } catch (const ConfigError& e) {
            CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
            CHECK(std::string(e.what()).find("not valid JSON") != std::string::npos);
        }
    }

    TEST_CASE("wrongly typed values are startup errors")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        for (const char* content : {R"([1,2])", R"({"port": "24713"})", R"({"port": 0})", R"({"port": 70000})",
                                    R"({"port": 1.5})", R"({"allowedOrigins": "https://a.example"})",
                                    R"({"allowedOrigins": [1]})", R"({"allowedOrigins": ["*"]})"}) {
            CAPTURE(content);
            writeFile(file, content);
            CHECK_THROWS_AS(run({}, environment({{"INKAN_CONFIG", file.string()}})), ConfigError);
        }
    }

    TEST_CASE("the usage ledger's settings: dir relative to the file, segment size, segments kept")
    {
        TempDir dir;
        const fs::path file = dir.path / "conf" / "inkand.json";
        writeFile(file, R"({"audit": {"dir": "ledger", "segmentBytes": 65536, "keepSegments": 12, "mirror": "stderr"}})");
        const Config config = configOf({}, environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(config.audit.dir == dir.path / "conf" / "ledger");
        CHECK(config.audit.segmentBytes == 65536);
        CHECK(config.audit.keepSegments == 12);
        CHECK(config.audit.mirror == "stderr");
        CHECK(config.warnings.empty());

        const Config defaults = configOf({}, environment({{"HOME", dir.path.string()}}));
        CHECK(defaults.audit.dir.empty());  // <state>/audit
        CHECK(defaults.audit.segmentBytes == 4U * 1024U * 1024U);
        CHECK(defaults.audit.keepSegments == 0);
        CHECK(defaults.audit.mirror == "syslog");

        for (const char* content : {R"({"audit": []})", R"({"audit": {"dir": ""}})", R"({"audit": {"segmentBytes": 100}})",
                                    R"({"audit": {"keepSegments": -1}})", R"({"audit": {"mirror": "journal"}})"}) {
            CAPTURE(content);
            writeFile(file, content);
            CHECK_THROWS_AS(run({}, environment({{"INKAN_CONFIG", file.string()}})), ConfigError);
        }
    }

    TEST_CASE("idleExitSeconds: 0 (never) by default, whole seconds up to a day")
    {
        TempDir dir;
        const fs::path file = dir.path / "conf" / "inkand.json";
        CHECK(configOf({}, environment({{"HOME", dir.path.string()}})).idleExitSeconds == 0);
        writeFile(file, R"({"idleExitSeconds": 300})");
        const Config config = configOf({}, environment({{"INKAN_CONFIG", file.string()}}));
        CHECK(config.idleExitSeconds == 300);
        CHECK(config.warnings.empty());
        for (const char* content : {R"({"idleExitSeconds": -1})", R"({"idleExitSeconds": 86401})",
                                    R"({"idleExitSeconds": "60"})", R"({"idleExitSeconds": 1.5})"}) {
            CAPTURE(content);
            writeFile(file, content);
            CHECK_THROWS_AS(run({}, environment({{"INKAN_CONFIG", file.string()}})), ConfigError);
        }
    }

    TEST_CASE("pkcs11Modules: paths relative to the file; --pkcs11-module (repeatable) replaces them; a timeout")
    {
        TempDir dir;
        const fs::path file = dir.path / "conf" / "inkand.json";
        writeFile(file, R"({"pkcs11Modules": ["/usr/lib/vendor.so", "mine/module.so", "/usr/lib/vendor.so"], "pkcs11TimeoutSeconds": 5})");
        const auto env = environment({{"INKAN_CONFIG", file.string()}});
        const Config config = configOf({}, env);
        CHECK(config.pkcs11Modules == std::vector<fs::path>{"/usr/lib/vendor.so", dir.path / "conf" / "mine" / "module.so"});
        CHECK(config.pkcs11TimeoutSeconds == 5);
        CHECK(config.warnings.empty());
        const Config given = configOf({"--pkcs11-module", "/a.so", "--pkcs11-module", "/b.so"}, env);
        CHECK(given.pkcs11Modules == std::vector<fs::path>{"/a.so", "/b.so"});
        CHECK(configOf({}, environment({{"HOME", dir.path.string()}})).pkcs11TimeoutSeconds == 30);
        for (const char* content : {R"({"pkcs11Modules": "/a.so"})", R"({"pkcs11Modules": [""]})", R"({"pkcs11Modules": [1]})",
                                    R"({"pkcs11TimeoutSeconds": 0})", R"({"pkcs11TimeoutSeconds": 601})"}) {
            CAPTURE(content);
            writeFile(file, content);
            CHECK_THROWS_AS(run({}, env), ConfigError);
        }
    }

    TEST_CASE("the installed example config (packaging/inkand.example.json) loads without a warning")
    {
        const fs::path example = fs::path(INKAN_SOURCE_DIR) / "packaging" / "inkand.example.json";
        REQUIRE(fs::exists(example));
        const Config config = configOf({"--config", example.string()}, environment({}));
        CHECK(config.warnings.empty());
        CHECK(config.idleExitSeconds > 0);
        CHECK(config.allowedOrigins == std::vector<std::string>{"https://portal.example.jp"});
    }

    TEST_CASE("unknown keys are reported as warnings")
    {
        TempDir dir;
        const fs::path file = dir.path / "inkand.json";
        writeFile(file, R"({"allowedOrigin": ["https://a.example"]})");
        const Config config = configOf({}, environment({{"INKAN_CONFIG", file.string()}}));
        REQUIRE(config.warnings.size() == 1);
        CHECK(config.warnings[0].find("allowedOrigin") != std::string::npos);
    }

    TEST_CASE("--version and --help exit early with code 0; bad options exit non-zero")
    {
        auto version = run({"--version"}, environment({}));
        REQUIRE(std::holds_alternative<EarlyExit>(version));
        CHECK(std::get<EarlyExit>(version).code == 0);
        CHECK(std::get<EarlyExit>(version).output.find("inkand ") != std::string::npos);

        auto help = run({"--help"}, environment({}));
        REQUIRE(std::holds_alternative<EarlyExit>(help));
        CHECK(std::get<EarlyExit>(help).code == 0);
        CHECK(std::get<EarlyExit>(help).output.find("--allow-origin") != std::string::npos);

        for (std::vector<std::string> bad : {std::vector<std::string>{"--port", "0"}, {"--port", "65536"}, {"--port", "x"},
                                             {"--bogus"}, {"positional"}}) {
            auto result = run(bad, environment({}));
            REQUIRE(std::holds_alternative<EarlyExit>(result));
            CHECK(std::get<EarlyExit>(result).code != 0);
        }
    }

    TEST_CASE("a bad --allow-origin is a startup error")
    {
        CHECK_THROWS_AS(run({"--allow-origin", "portal.example"}, environment({})), ConfigError);
    }
}

TEST_SUITE("config origins")
{
    TEST_CASE("origins are serialized as browsers send them")
    {
        CHECK(normalizeOrigin("https://portal.example.jp", "t") == "https://portal.example.jp");
        CHECK(normalizeOrigin("HTTPS://Portal.Example.JP", "t") == "https://portal.example.jp");
        CHECK(normalizeOrigin("https://portal.example.jp/", "t") == "https://portal.example.jp");
        CHECK(normalizeOrigin("https://portal.example.jp:443", "t") == "https://portal.example.jp");
        CHECK(normalizeOrigin("http://portal.example.jp:80", "t") == "http://portal.example.jp");
        CHECK(normalizeOrigin("https://portal.example.jp:8443", "t") == "https://portal.example.jp:8443");
        CHECK(normalizeOrigin("http://localhost:3000", "t") == "http://localhost:3000");
        CHECK(normalizeOrigin("http://[::1]:3000", "t") == "http://[::1]:3000");
        CHECK(normalizeOrigin("https://xn--eckwd4c7c.xn--zckzah", "t") == "https://xn--eckwd4c7c.xn--zckzah");
    }

    TEST_CASE("anything that is not one concrete origin is refused")
    {
        for (const char* bad : {"*", "null", "", "portal.example", "ftp://portal.example", "https://",
                                "https://portal.example/path", "https://portal.example?q", "https://portal.example#f",
                                "https://user@portal.example", "https://portal.example:", "https://portal.example:0",
                                "https://portal.example:65536", "https://portal.example:x", "https://ポータル.example",
                                "https://portal example", "https://[::1", "https://[zz]", "https://[::1]x",
                                "https://portal.example//"}) {
            CAPTURE(bad);
            CHECK_THROWS_AS(normalizeOrigin(bad, "--allow-origin"), ConfigError);
        }
    }
}

TEST_SUITE("config state directory")
{
    TEST_CASE("--state-dir, else INKAN_STATE_DIR, else XDG_STATE_HOME/inkan, else ~/.local/state/inkan")
    {
        const auto env = environment({{"INKAN_STATE_DIR", "/s"}, {"XDG_STATE_HOME", "/xdg"}, {"HOME", "/h"}});
        CHECK(state::resolveStateDir(fs::path("/cli"), env) == "/cli");
        CHECK(state::resolveStateDir(std::nullopt, env) == "/s");
        CHECK(state::resolveStateDir(std::nullopt, environment({{"XDG_STATE_HOME", "/xdg"}, {"HOME", "/h"}})) ==
              "/xdg/inkan");
        CHECK(state::resolveStateDir(std::nullopt, environment({{"XDG_STATE_HOME", "rel"}, {"HOME", "/h"}})) ==
              "/h/.local/state/inkan");
        CHECK(state::resolveStateDir(std::nullopt, environment({{"HOME", "/h"}})) == "/h/.local/state/inkan");
        CHECK_THROWS_AS(state::resolveStateDir(std::nullopt, environment({})), state::StateError);
    }
}
