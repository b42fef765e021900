// inkan CLI — what every command shares: the global options, the connection
// to inkand (opened on first use, so `inkan trust` works without a daemon),
// the choice of card and the two output styles.
#pragma once

#include <cstdint>
#include <ctime>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "client-sdk/cli/api_client.hpp"
#include "client-sdk/cli/state_dir.hpp"

namespace inkan::cli {

struct GlobalOptions {
    std::uint16_t port = kDefaultPort;
    std::string stateDir;  // empty: the default state directory
    bool json = false;
    std::string card;      // empty: the only card present
};

class Session {
public:
    explicit Session(GlobalOptions options) : options_(std::move(options)) {}

    const GlobalOptions& options() const noexcept { return options_; }
    bool json() const noexcept { return options_.json; }

    const StateDir& stateDir();
    ApiClient& api();

    /// --card, else the id of the only card present. Failure(Usage) when
    /// several cards are present, Failure(ApiError) when there is none.
    std::string cardId();
    /// "/cards/<id>" with the id encoded, the prefix of every card resource.
    std::string cardPath();

    /// Prints the API's answer as received (the --json output).
    void printJson(const ApiResponse& response);

    std::ostream& out();
    /// "inkan: warning: …" on stderr.
    void warn(std::string_view message);
    /// A line on stderr that is not the result (progress, notes).
    void note(std::string_view message);

    std::time_t now() const { return std::time(nullptr); }

private:
    GlobalOptions options_;
    std::optional<StateDir> stateDir_;
    std::optional<ApiClient> api_;
    std::optional<std::string> cardId_;
};

/// Reading members of the API's answers: a missing or mistyped member reads
/// as empty, so output code never throws on an unexpected shape.
std::string textOf(const nlohmann::json& object, std::string_view name);
std::optional<long long> numberOf(const nlohmann::json& object, std::string_view name);
bool flagOf(const nlohmann::json& object, std::string_view name);
const nlohmann::json& arrayOf(const nlohmann::json& object, std::string_view name);
const nlohmann::json& objectOf(const nlohmann::json& object, std::string_view name);

}  // namespace inkan::cli
