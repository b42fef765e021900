#include "client-sdk/cli/problem.hpp"

#include <cstdio>
#include <string_view>

#include <nlohmann/json.hpp>

namespace inkan::cli {
namespace {

std::string stringMember(const nlohmann::json& object, const char* name)
{
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> statusWordMember(const nlohmann::json& object)
{
    auto it = object.find("statusWord");
    if (it == object.end()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_unsigned() || it->is_number_integer()) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(it->get<long long>() & 0xFFFF));
        return std::string(hex);
    }
    return std::nullopt;
}

}  // namespace

Problem Problem::fromResponse(long httpStatus, const std::string& body)
{
    Problem problem;
    problem.status = static_cast<int>(httpStatus);
    problem.body = body;
    nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
        problem.code = stringMember(json, "code");
        problem.title = stringMember(json, "title");
        problem.detail = stringMember(json, "detail");
        if (auto it = json.find("triesLeft"); it != json.end() && it->is_number_integer()) problem.triesLeft = it->get<int>();
        problem.statusWord = statusWordMember(json);
    }
    if (problem.code.empty()) problem.code = "HTTP_" + std::to_string(httpStatus);
    return problem;
}

ApiProblem::ApiProblem(Problem problem) : std::runtime_error(problem.code), problem_(std::move(problem)) {}

std::string triesLeftText(int triesLeft)
{
    return std::to_string(triesLeft) + (triesLeft == 1 ? " try left" : " tries left");
}

ExitCode exitCodeFor(const Problem& problem)
{
    // The card (or inkand's guard in front of it) refused the PIN or unblock code.
    if (problem.code == "PIN_INCORRECT" || problem.code == "PIN_BLOCKED" || problem.code == "UNBLOCK_CODE_INCORRECT"
        || problem.code == "UNBLOCK_CODE_BLOCKED" || problem.code == "PIN_GUARD") {
        return ExitCode::PinRefused;
    }
    return ExitCode::ApiError;
}

std::string describe(const Problem& problem)
{
    std::string text;
    if (problem.code == "PIN_INCORRECT") {
        text = "wrong PIN";
        if (problem.triesLeft) text += " — " + triesLeftText(*problem.triesLeft) + " before the card locks";
    } else if (problem.code == "UNBLOCK_CODE_INCORRECT") {
        text = "wrong unblock code";
        if (problem.triesLeft) text += " — " + triesLeftText(*problem.triesLeft);
    } else if (problem.code == "PIN_BLOCKED") {
        text = "the PIN is blocked — the card refuses every PIN until it is unblocked";
    } else if (problem.code == "UNBLOCK_CODE_BLOCKED") {
        text = "the unblock code is blocked too — the card cannot be unblocked any more";
    } else if (problem.code == "PIN_GUARD") {
        text = "inkand refused to spend a PIN try";
        if (!problem.detail.empty()) text += ": " + problem.detail;
        if (problem.triesLeft) text += " (" + triesLeftText(*problem.triesLeft) + ")";
    } else {
        text = !problem.detail.empty() ? problem.detail : !problem.title.empty() ? problem.title : "HTTP " + std::to_string(problem.status);
        if (problem.statusWord) text += " (status word " + *problem.statusWord + ")";
    }
    return problem.code + ": " + text;
}

std::string hintFor(const Problem& problem)
{
    const std::string& code = problem.code;
    const bool unblockable = problem.pinUnblockable.value_or(true);
    if (code == "PIN_BLOCKED" && !unblockable) return "the card cannot unblock it: " + problem.pinReset;
    if (code == "PIN_BLOCKED") return "unblock it with `inkan pin unblock` (asks for the unblock code and a new PIN)";
    if (code == "PIN_INCORRECT" && !unblockable && problem.triesLeft && *problem.triesLeft <= 3) {
        return "after the last wrong PIN the card cannot unblock it: " + problem.pinReset;
    }
    if (code == "UNBLOCK_CODE_BLOCKED") return "ask the card's issuer to reissue the card";
    if (code == "PIN_INCORRECT" && problem.triesLeft && *problem.triesLeft <= 3) {
        return "after the last wrong PIN only the unblock code can make the card usable again";
    }
    if (code == "PAIRING_CODE_INCORRECT") return "type the code the web page shows (6 digits); after 3 wrong codes the pairing is denied";
    if (code == "PAIRING_NOT_PENDING") return "the page must ask again; `inkan pair list` shows what is waiting";
    if (code == "CARD_BLOCKED_BY_POLICY") return "the card's certificate is in \"blockedCertificateSerials\" of inkand's config";
    if (code == "CARD_NOT_FOUND") return "`inkan cards` lists the cards present; choose one with --card ID";
    if (code == "CARD_REMOVED") return "put the card back in the reader and try again";
    if (code == "PCSC_UNAVAILABLE") return "start the PC/SC service: sudo systemctl start pcscd.socket";
    if (code == "READER_UNAVAILABLE") return "check the reader's cable; `inkan status` lists the readers inkand sees";
    if (code == "BUSY") return "another application is using the card; try again when it is done";
    if (code == "AUDIT_UNAVAILABLE") {
        return "inkand cannot write its usage ledger (<state dir>/audit, or the config's audit.dir): free disk space or fix its permissions, then try again";
    }
    if (code == "UNAUTHORIZED") {
        return "the token of this state directory is not the running inkand's: pass the --state-dir and --port it uses";
    }
    return {};
}

}  // namespace inkan::cli
