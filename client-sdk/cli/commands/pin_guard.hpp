// inkan CLI — which PIN a command spends a try of, and what it checks first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client-sdk/cli/session.hpp"

namespace inkan::cli {

/// One PIN of the card (GET /v1/cards/{id}: `pins`), as the PIN commands need it.
struct CardPin {
    std::string id;       // "user" (reference card), "sign", "auth" (My Number card)
    std::string label;    // for people, from the card's profile
    bool unblockable = true;  // the card can unblock it with an unblock code
    bool isDefault = true;    // the card's default PIN (pins[0], the /pin/... paths)
    bool onlyPin = true;      // the card has no other PIN
    std::string profile;      // the card's profile, e.g. "jpki"
    nlohmann::json listed;    // the PIN as listed with the card

    /// Below the card: "/pin" for the default PIN, else "/pins/{id}".
    std::string path() const;
    /// "the PIN" on a one-PIN card, else e.g. "the sign PIN (署名用パスワード)".
    std::string name() const;
    /// Who resets this PIN once it is blocked, when the card cannot: e.g.
    /// "only the card's issuer can reset it (for the My Number card: the municipal office, 市区町村の窓口)".
    std::string issuerReset() const;
};

/// PIN `pinId` of the card (default: its default PIN), from inkand's listing
/// (no APDU). Failure(Usage) naming the card's PINs when it has none by that id.
CardPin cardPin(Session& session, const std::optional<std::string>& pinId);

/// Every PIN of the card, the default PIN first (no APDU).
std::vector<CardPin> cardPins(Session& session);

/// The PIN guarding the key of certificate `certificateId` (empty: the card's
/// signing certificate). Failure(Usage) when the card has no such certificate
/// or holds no key for it.
CardPin keyPin(Session& session, const std::string& certificateId);

/// "10 of 10 tries left" or "blocked".
std::string pinSummary(const nlohmann::json& pin);

/// "4 digits", "6 to 16 characters A-Z 0-9" (a PIN's `format`).
std::string formatSummary(const nlohmann::json& format);

/// Reads the PIN's status from the card (spends no try). Failure(PinRefused)
/// when the PIN is blocked, so the user is not asked for a PIN the card would
/// refuse anyway; a warning on stderr when only a few tries are left (relative
/// to that PIN's own maximum, see fewTriesLeft), saying who resets it when the
/// card cannot.
nlohmann::json checkPinBeforeSpendingATry(Session& session, const CardPin& pin, const std::string& operation);
/// The same for the card's default PIN.
nlohmann::json checkPinBeforeSpendingATry(Session& session, const std::string& operation);

/// The same for the unblock code's own counter (GET …/unblock-code):
/// Failure(PinRefused) as UNBLOCK_CODE_BLOCKED when it is blocked.
nlohmann::json checkUnblockCodeBeforeSpendingATry(Session& session);

/// How many tries inkand's PIN guard keeps unspent for a counter of
/// `maxTries` by default (docs/security.md): 30%, rounded, at least 1 — the
/// last 1 of 3, 2 of 5, 3 of 10. Never all of them.
int guardedTries(long long maxTries);

/// Whether `pin` (a PIN status) is down to the tries inkand's guard keeps: the
/// user has been warned, and the request says so to inkand's PIN guard
/// ("acknowledgeLowTries", docs/security.md), which refuses otherwise.
bool fewTriesLeft(const nlohmann::json& pin);

/// Runs `request`; a PIN problem it throws (PIN_INCORRECT, PIN_BLOCKED…) is
/// rethrown knowing `pin`, so its hint names who can reset that PIN.
template <typename Request>
auto forPin(const CardPin& pin, Request&& request) -> decltype(request());

}  // namespace inkan::cli

#include "client-sdk/cli/problem.hpp"

namespace inkan::cli {

template <typename Request>
auto forPin(const CardPin& pin, Request&& request) -> decltype(request())
{
    try {
        return request();
    } catch (const ApiProblem& e) {
        Problem problem = e.problem();
        problem.pinUnblockable = pin.unblockable;
        problem.pinReset = pin.issuerReset();
        throw ApiProblem(std::move(problem));
    }
}

}  // namespace inkan::cli
