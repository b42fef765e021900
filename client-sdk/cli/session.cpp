#include "client-sdk/cli/session.hpp"

#include <iostream>

#include "client-sdk/cli/failure.hpp"

namespace inkan::cli {

const StateDir& Session::stateDir()
{
    if (!stateDir_) stateDir_ = StateDir::resolve(options_.stateDir);
    return *stateDir_;
}

ApiClient& Session::api()
{
    if (!api_) {
        const StateDir& state = stateDir();
        state.requireCaFile();
        Secret token = state.readToken();
        api_.emplace(options_.port, state.caFile(), token);
    }
    return *api_;
}

std::string Session::cardId()
{
    if (cardId_) return *cardId_;
    if (!options_.card.empty()) return *(cardId_ = options_.card);

    ApiResponse response = api().get("/cards", "reading the cards…");
    const nlohmann::json& cards = arrayOf(response.json, "cards");
    if (cards.empty()) {
        throw Failure(ExitCode::ApiError, "no card in any reader", "insert the card; `inkan status` lists the readers inkand sees");
    }
    if (cards.size() > 1) {
        std::string ids;
        for (const auto& card : cards) ids += "\n  " + textOf(card, "id") + "  " + textOf(card, "label") + " (" + textOf(card, "reader") + ")";
        throw Failure(ExitCode::Usage, "several cards are present; choose one with --card ID:" + ids);
    }
    return *(cardId_ = textOf(cards.front(), "id"));
}

std::string Session::cardPath()
{
    return "/cards/" + pathSegment(cardId());
}

void Session::printJson(const ApiResponse& response)
{
    std::cout << response.body;
    if (response.body.empty() || response.body.back() != '\n') std::cout << '\n';
}

std::ostream& Session::out()
{
    return std::cout;
}

void Session::warn(std::string_view message)
{
    std::cerr << "inkan: warning: " << message << '\n';
}

void Session::note(std::string_view message)
{
    std::cerr << message << '\n';
}

std::string textOf(const nlohmann::json& object, std::string_view name)
{
    if (!object.is_object()) return {};
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<long long> numberOf(const nlohmann::json& object, std::string_view name)
{
    if (!object.is_object()) return std::nullopt;
    auto it = object.find(name);
    if (it == object.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<long long>();
}

bool flagOf(const nlohmann::json& object, std::string_view name)
{
    if (!object.is_object()) return false;
    auto it = object.find(name);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

const nlohmann::json& arrayOf(const nlohmann::json& object, std::string_view name)
{
    static const nlohmann::json empty = nlohmann::json::array();
    if (!object.is_object()) return empty;
    auto it = object.find(name);
    return it != object.end() && it->is_array() ? *it : empty;
}

const nlohmann::json& objectOf(const nlohmann::json& object, std::string_view name)
{
    static const nlohmann::json empty = nlohmann::json::object();
    if (!object.is_object()) return empty;
    auto it = object.find(name);
    return it != object.end() && it->is_object() ? *it : empty;
}

}  // namespace inkan::cli
