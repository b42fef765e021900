#include "client-sdk/cli/commands/pin_guard.hpp"

#include "client-sdk/cli/problem.hpp"

namespace inkan::cli {

std::string pinSummary(const nlohmann::json& pin)
{
    if (flagOf(pin, "blocked")) return "blocked";
    auto left = numberOf(pin, "triesLeft");
    auto max = numberOf(pin, "maxTries");
    if (!left) return "unknown";
    std::string text = std::to_string(*left);
    if (max) text += " of " + std::to_string(*max);
    return text + (*left == 1 ? " try left" : " tries left");
}

bool fewTriesLeft(const nlohmann::json& pin)
{
    const auto left = numberOf(pin, "triesLeft");
    return left && *left <= kFewTriesLeft;
}

nlohmann::json checkPinBeforeSpendingATry(Session& session, const std::string& operation)
{
    nlohmann::json pin = session.api().get(session.cardPath() + "/pin", "reading the PIN status…").json;
    if (flagOf(pin, "blocked")) {
        // The same problem document inkand answers a blocked PIN with (423,
        // PIN_BLOCKED), so scripts see one shape whichever side noticed first.
        nlohmann::json document = {{"type", "urn:inkan:problem:pin-blocked"},
                                   {"title", "PIN blocked"},
                                   {"status", 423},
                                   {"detail", "the PIN is blocked; nothing was sent to the card"},
                                   {"code", "PIN_BLOCKED"}};
        throw ApiProblem(Problem::fromResponse(423, document.dump()));
    }
    if (auto left = numberOf(pin, "triesLeft"); left && *left <= kFewTriesLeft) {
        session.warn("only " + triesLeftText(static_cast<int>(*left)) + " before the card locks; a wrong PIN for " + operation
                     + " spends one of them");
    }
    return pin;
}

}  // namespace inkan::cli
