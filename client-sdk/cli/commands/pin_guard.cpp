#include "client-sdk/cli/commands/pin_guard.hpp"

#include <algorithm>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/problem.hpp"

namespace inkan::cli {
namespace {

// inkand's PIN guard keeps this share of a counter's tries unspent by default
// (tenths, rounded; daemon/security/pin_guard.cpp, docs/security.md).
constexpr long long kGuardedTenths = 3;

// The profile of the My Number card (docs/jpki.md): its PINs have no unblock
// code; a locked one is reset at the municipal office.
constexpr const char* kJpkiProfile = "jpki";

// A counter that is blocked is answered with the same problem document inkand
// answers it with, so scripts see one shape whichever side noticed first.
[[noreturn]] void throwProblem(int status, const char* code, const char* type, const char* title, const std::string& detail,
                               const CardPin* pin = nullptr)
{
    nlohmann::json document = {{"type", type}, {"title", title}, {"status", status}, {"detail", detail}, {"code", code}};
    Problem problem = Problem::fromResponse(status, document.dump());
    if (pin) {
        problem.pinUnblockable = pin->unblockable;
        problem.pinReset = pin->issuerReset();
    }
    throw ApiProblem(std::move(problem));
}

CardPin pinOf(const nlohmann::json& card, const nlohmann::json& pins, std::size_t index)
{
    const nlohmann::json& listed = pins.at(index);
    CardPin pin;
    pin.id = textOf(listed, "id");
    pin.label = textOf(listed, "label");
    pin.unblockable = flagOf(listed, "unblockable");
    pin.isDefault = index == 0;
    pin.onlyPin = pins.size() == 1;
    pin.profile = textOf(card, "profile");
    pin.listed = listed;
    return pin;
}

std::string pinIds(const nlohmann::json& pins)
{
    std::string ids;
    for (const auto& pin : pins) ids += (ids.empty() ? "" : ", ") + textOf(pin, "id");
    return ids;
}

}  // namespace

std::string CardPin::path() const { return isDefault ? "/pin" : "/pins/" + id; }

std::string CardPin::name() const
{
    if (onlyPin) return "the PIN";
    return "the " + id + " PIN" + (label.empty() ? "" : " (" + label + ")");
}

std::string CardPin::issuerReset() const
{
    if (profile == kJpkiProfile) {
        return "only the card's issuer can reset it (for the My Number card: the municipal office, 市区町村の窓口)";
    }
    return "only the card's issuer can reset it";
}

CardPin cardPin(Session& session, const std::optional<std::string>& pinId)
{
    const nlohmann::json card = session.api().get(session.cardPath(), "reading the card…").json;
    const nlohmann::json& pins = arrayOf(card, "pins");
    if (pins.empty()) throw Failure(ExitCode::ApiError, "inkand lists no PIN for card " + session.cardId());
    if (!pinId) return pinOf(card, pins, 0);
    for (std::size_t i = 0; i < pins.size(); ++i) {
        if (textOf(pins[i], "id") == *pinId) return pinOf(card, pins, i);
    }
    // The value is not repeated: someone may have typed a PIN's value there.
    throw Failure(ExitCode::Usage, "card " + session.cardId() + " has no PIN by that id; its PINs: " + pinIds(pins),
                  "--pin names one of the card's PINs; the PIN itself is never taken from the command line");
}

std::vector<CardPin> cardPins(Session& session)
{
    const nlohmann::json card = session.api().get(session.cardPath(), "reading the card…").json;
    const nlohmann::json& pins = arrayOf(card, "pins");
    std::vector<CardPin> all;
    for (std::size_t i = 0; i < pins.size(); ++i) all.push_back(pinOf(card, pins, i));
    if (all.empty()) throw Failure(ExitCode::ApiError, "inkand lists no PIN for card " + session.cardId());
    return all;
}

CardPin keyPin(Session& session, const std::string& certificateId)
{
    const nlohmann::json card = session.api().get(session.cardPath(), "reading the card…").json;
    const std::string wanted = certificateId.empty() ? textOf(card, "signingCertificate") : certificateId;
    const nlohmann::json& pins = arrayOf(card, "pins");
    std::string ids;
    for (const auto& certificate : arrayOf(card, "certificates")) {
        ids += (ids.empty() ? "" : ", ") + textOf(certificate, "id");
        if (textOf(certificate, "id") != wanted) continue;
        const std::string pinId = textOf(certificate, "keyPin");
        if (pinId.empty()) {
            throw Failure(ExitCode::Usage, "card " + session.cardId() + " holds no key for certificate \"" + wanted + "\"");
        }
        for (std::size_t i = 0; i < pins.size(); ++i) {
            if (textOf(pins[i], "id") == pinId) return pinOf(card, pins, i);
        }
        throw Failure(ExitCode::ApiError, "inkand lists no PIN \"" + pinId + "\" for certificate \"" + wanted + "\"");
    }
    // A card listed before keys had PINs (or an older inkand): its default PIN.
    if (wanted.empty() && !pins.empty()) return pinOf(card, pins, 0);
    throw Failure(ExitCode::Usage, "card " + session.cardId() + " has no certificate \"" + wanted + "\"; its certificates: " + ids);
}

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

std::string formatSummary(const nlohmann::json& format)
{
    const auto min = numberOf(format, "minLength");
    const auto max = numberOf(format, "maxLength");
    if (!min || !max) return "";
    const std::string alphabet = textOf(format, "alphabet");
    std::string length = *min == *max ? std::to_string(*min) : std::to_string(*min) + " to " + std::to_string(*max);
    if (alphabet == "digits") return length + " digits";
    if (alphabet == "upper-alphanumeric") return length + " characters A-Z 0-9";
    return length + " characters";  // "any": a file credential's password
}

int guardedTries(long long maxTries)
{
    if (maxTries <= 1) return 0;
    const long long kept = std::max<long long>(1, (kGuardedTenths * maxTries + 5) / 10);
    return static_cast<int>(std::min(kept, maxTries - 1));
}

bool fewTriesLeft(const nlohmann::json& pin)
{
    const auto left = numberOf(pin, "triesLeft");
    const auto max = numberOf(pin, "maxTries");
    return left && max && *left <= guardedTries(*max);
}

nlohmann::json checkPinBeforeSpendingATry(Session& session, const CardPin& pin, const std::string& operation)
{
    nlohmann::json status = session.api().get(session.cardPath() + (pin.isDefault ? "/pin" : "/pins/" + pin.id),
                                              "reading the PIN status…").json;
    if (flagOf(status, "blocked")) {
        const std::string detail = pin.unblockable
                                       ? pin.name() + " is blocked; nothing was sent to the card"
                                       : pin.name() + " is blocked and the card cannot unblock it: " + pin.issuerReset()
                                             + "; nothing was sent to the card";
        throwProblem(423, "PIN_BLOCKED", "urn:inkan:problem:pin-blocked", "PIN blocked", detail, &pin);
    }
    if (fewTriesLeft(status)) {
        std::string warning = "only " + triesLeftText(static_cast<int>(*numberOf(status, "triesLeft"))) + " before the card locks";
        if (!pin.onlyPin) warning += " " + pin.name() + ", which has " + std::to_string(*numberOf(status, "maxTries")) + " in all";
        warning += "; a wrong PIN for " + operation + " spends one of them";
        if (!pin.unblockable) warning += ". The card cannot unblock it once locked: " + pin.issuerReset();
        session.warn(warning);
    }
    return status;
}

nlohmann::json checkPinBeforeSpendingATry(Session& session, const std::string& operation)
{
    return checkPinBeforeSpendingATry(session, cardPin(session, std::nullopt), operation);
}

nlohmann::json checkUnblockCodeBeforeSpendingATry(Session& session)
{
    nlohmann::json code = session.api().get(session.cardPath() + "/unblock-code", "reading the unblock code's status…").json;
    if (flagOf(code, "blocked")) {
        throwProblem(423, "UNBLOCK_CODE_BLOCKED", "urn:inkan:problem:unblock-code-blocked", "Unblock code blocked",
                     "the unblock code is blocked; the card must be reissued; nothing was sent to the card");
    }
    if (fewTriesLeft(code)) {
        session.warn("only " + triesLeftText(static_cast<int>(*numberOf(code, "triesLeft")))
                     + " of the unblock code before the card can only be reissued; a wrong code spends one of them");
    }
    return code;
}

}  // namespace inkan::cli
