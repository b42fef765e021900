// inkan CLI — reading inkand's event stream (GET /v1/events, docs/events.md):
// the text/event-stream parser and the one place where events become words.
//
// The parser is written here on purpose: Debian has no kept C/C++ library for
// text/event-stream (libcurl hands over raw bytes), and the format is small
// and fully specified (WHATWG HTML §9.2.6), which the unit tests follow line
// by line.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace inkan::cli {

/// One dispatched event.
struct StreamEvent {
    std::string id;    // the last event id when it was dispatched ("" if none yet)
    std::string type;  // "message" when the block named none (WHATWG HTML §9.2.6)
    std::string data;  // the data lines joined with '\n'
};

/// Incremental text/event-stream parser after WHATWG HTML §9.2.6: lines of
/// "field: value", comments starting with ':', a blank line dispatches. Lines
/// end with LF or CRLF (inkand sends LF). Bytes arrive in any split.
class EventStreamParser {
public:
    /// The longest line accepted; a longer one means this is not inkand's stream.
    static constexpr std::size_t kMaxLineLength = 1024 * 1024;

    explicit EventStreamParser(std::function<void(const StreamEvent&)> onEvent) : onEvent_(std::move(onEvent)) {}

    /// Feed received bytes. Returns false (and ignores the rest) once a line is too long.
    bool feed(std::string_view bytes);

    /// The id to resume from (Last-Event-ID): also set by a block with an id and no data.
    const std::optional<std::string>& lastEventId() const noexcept { return lastEventId_; }
    /// The reconnection delay the server asked for, in milliseconds.
    std::optional<long> retryMilliseconds() const noexcept { return retry_; }
    /// Comment lines seen (inkand's heartbeats).
    std::size_t comments() const noexcept { return comments_; }

private:
    void processLine(std::string_view line);
    void dispatch();

    std::function<void(const StreamEvent&)> onEvent_;
    std::string pending_;  // an incomplete line
    std::string data_;
    std::string type_;
    std::string idBuffer_;
    bool idSeen_ = false;
    std::optional<std::string> lastEventId_;
    std::optional<long> retry_;
    std::size_t comments_ = 0;
    bool broken_ = false;
};

/// One line for people, e.g. "card 1A2B… inserted in 'Reader 00': 代表取締役 印鑑 太郎".
std::string describeEvent(std::string_view type, const nlohmann::json& data);

/// One line of JSON for scripts: {"id":…,"type":…,"data":…}.
std::string eventAsJsonLine(const StreamEvent& event);

}  // namespace inkan::cli
