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

namespace {

// A counter that is blocked is answered with the same problem document inkand
// answers it with, so scripts see one shape whichever side noticed first.
[[noreturn]] void throwBlocked(const char* code, const char* type, const char* title, const std::string& detail)
{
    nlohmann::json document = {{"type", type}, {"title", title}, {"status", 423}, {"detail", detail}, {"code", code}};
    throw ApiProblem(Problem::fromResponse(423, document.dump()));
}

}  // namespace

nlohmann::json checkPinBeforeSpendingATry(Session& session, const std::string& operation)
{
    nlohmann::json pin = session.api().get(session.cardPath() + "/pin", "reading the PIN status…").json;
    if (flagOf(pin, "blocked")) {
        throwBlocked("PIN_BLOCKED", "urn:inkan:problem:pin-blocked", "PIN blocked",
                     "the PIN is blocked; nothing was sent to the card");
    }
    if (fewTriesLeft(pin)) {
        session.warn("only " + triesLeftText(static_cast<int>(*numberOf(pin, "triesLeft"))) + " before the card locks; a wrong PIN for "
                     + operation + " spends one of them");
    }
    return pin;
}

nlohmann::json checkUnblockCodeBeforeSpendingATry(Session& session)
{
    nlohmann::json code = session.api().get(session.cardPath() + "/unblock-code", "reading the unblock code's status…").json;
    if (flagOf(code, "blocked")) {
        throwBlocked("UNBLOCK_CODE_BLOCKED", "urn:inkan:problem:unblock-code-blocked", "Unblock code blocked",
                     "the unblock code is blocked; the card must be reissued; nothing was sent to the card");
    }
    if (fewTriesLeft(code)) {
        session.warn("only " + triesLeftText(static_cast<int>(*numberOf(code, "triesLeft")))
                     + " of the unblock code before the card can only be reissued; a wrong code spends one of them");
    }
    return code;
}

}  // namespace inkan::cli
