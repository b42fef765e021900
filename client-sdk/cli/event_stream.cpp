#include "client-sdk/cli/event_stream.hpp"

#include <algorithm>

#include "client-sdk/cli/problem.hpp"
#include "client-sdk/cli/session.hpp"

namespace inkan::cli {

namespace {

constexpr std::string_view kDefaultType = "message";  // WHATWG HTML §9.2.6

std::string cardName(const nlohmann::json& data)
{
    const std::string id = textOf(data, "cardId");
    return id.empty() ? "card" : "card " + id;
}

std::string quoted(const std::string& reader) { return "'" + reader + "'"; }

std::string daysText(long long days)
{
    return std::to_string(days) + (days == 1 || days == -1 ? " day" : " days");
}

}  // namespace

bool EventStreamParser::feed(std::string_view bytes)
{
    if (broken_) return false;
    while (!bytes.empty()) {
        const std::size_t newline = bytes.find('\n');
        if (newline == std::string_view::npos) {
            pending_.append(bytes);
            if (pending_.size() > kMaxLineLength) broken_ = true;
            return !broken_;
        }
        pending_.append(bytes.substr(0, newline));
        bytes.remove_prefix(newline + 1);
        if (pending_.size() > kMaxLineLength) {
            broken_ = true;
            return false;
        }
        std::string_view line(pending_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        processLine(line);
        pending_.clear();
    }
    return true;
}

void EventStreamParser::processLine(std::string_view line)
{
    if (line.empty()) return dispatch();
    if (line.front() == ':') {
        ++comments_;
        return;
    }
    const std::size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);

    if (field == "data") {
        data_.append(value).append("\n");
    } else if (field == "event") {
        type_ = std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) {
            idBuffer_ = std::string(value);
            idSeen_ = true;
        }
    } else if (field == "retry") {
        if (!value.empty() && value.size() < 10 &&
            std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            retry_ = std::stol(std::string(value));
        }
    }
    // Other fields are ignored.
}

void EventStreamParser::dispatch()
{
    // The last event id is set even by a block without data.
    if (idSeen_) lastEventId_ = idBuffer_;
    if (data_.empty()) {
        type_.clear();
        return;
    }
    data_.pop_back();  // the '\n' after the last data line
    StreamEvent event{lastEventId_.value_or(""), type_.empty() ? std::string(kDefaultType) : type_, std::move(data_)};
    data_.clear();
    type_.clear();
    onEvent_(event);
}

std::string describeEvent(std::string_view type, const nlohmann::json& data)
{
    const std::string reader = textOf(data, "reader");
    if (type == "pcsc-available") return "PC/SC service available";
    if (type == "pcsc-unavailable") return "PC/SC service unavailable (is pcscd running?)";
    if (type == "reader-added") return "reader added: " + quoted(reader);
    if (type == "reader-removed") return "reader removed: " + quoted(reader);
    if (type == "card-inserted") {
        if (!flagOf(data, "supported")) return "unsupported card inserted in " + quoted(reader) + " (ATR " + textOf(data, "atr") + ")";
        const std::string error = textOf(data, "error");
        if (!error.empty()) return "card in " + quoted(reader) + " could not be read: " + error;
        return cardName(data) + " inserted in " + quoted(reader) + ": " + textOf(data, "label");
    }
    if (type == "card-removed") return cardName(data) + " removed from " + quoted(reader);
    if (type == "pin-status") {
        const std::string after = " (after " + textOf(data, "operation") + ")";
        if (flagOf(data, "blocked")) return cardName(data) + ": PIN blocked" + after;
        const auto left = numberOf(data, "triesLeft");
        const auto max = numberOf(data, "maxTries");
        if (!left) return cardName(data) + ": PIN status unknown" + after;
        if (!max) return cardName(data) + ": PIN: " + triesLeftText(static_cast<int>(*left)) + after;
        return cardName(data) + ": PIN: " + std::to_string(*left) + " of " + std::to_string(*max) + " tries left" + after;
    }
    if (type == "pin-blocked") {
        return cardName(data) + ": the PIN is BLOCKED; only the unblock code (or the card issuer's helpdesk) can reset it";
    }
    if (type == "certificate-expiring" || type == "certificate-expired") {
        const auto days = numberOf(data, "daysLeft").value_or(0);
        const std::string certificate = "certificate '" + textOf(data, "certificateId") + "'";
        const std::string when = " (" + textOf(data, "notAfter") + ")";
        if (type == "certificate-expired") return cardName(data) + ": " + certificate + " EXPIRED " + daysText(-days) + " ago" + when;
        return cardName(data) + ": " + certificate + " expires in " + daysText(days) + when + "; renew the card in time";
    }
    if (type == "reset") {
        return "events were missed (" + textOf(data, "reason") + "): `inkan status` and `inkan cards` show the current state";
    }
    return std::string(type) + " " + data.dump();
}

std::string eventAsJsonLine(const StreamEvent& event)
{
    nlohmann::ordered_json line;
    // Ids are decimal numbers (docs/events.md); anything else is passed on as text.
    const bool numeric = !event.id.empty() && event.id.size() < 20 &&
                         std::all_of(event.id.begin(), event.id.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) line["id"] = std::stoull(event.id);
    else line["id"] = event.id;
    line["type"] = event.type;
    auto data = nlohmann::ordered_json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    line["data"] = data.is_discarded() ? nlohmann::ordered_json(event.data) : std::move(data);
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace inkan::cli
