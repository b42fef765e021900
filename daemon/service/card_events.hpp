// inkan — what the card service tells the event stream (docs/events.md): the
// one place where event types are chosen and their payload fields named.
//
// Every method is a no-op without a bus. The card service calls them while it
// holds its registry lock, so the stream shows changes in the order the
// registry saw them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/cert/certificate.hpp"
#include "daemon/error.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/event_bus.hpp"

namespace inkan::service {

/// What a PIN status event reports after.
enum class PinOperation { Status, Verify, Change, Unblock, Sign };

class CardEvents {
public:
    /// `warnDays`: a certificate expiring within this many days is announced
    /// as certificate-expiring when its card is inserted.
    CardEvents(std::shared_ptr<EventBus> bus, int warnDays);

    void pcscAvailable(bool available) const;
    void readerAdded(const std::string& reader) const;
    void readerRemoved(const std::string& reader) const;

    /// A supported card has been read.
    void cardInserted(const std::string& reader, const Bytes& atr, const CardSummary& card) const;
    /// A card inkan cannot use: no profile for its ATR (`error` empty), or
    /// reading it failed with `error`.
    void unusableCardInserted(const std::string& reader, const Bytes& atr, std::optional<ErrorCode> error) const;
    void cardRemoved(const std::string& reader, const std::optional<std::string>& cardId) const;

    /// The PIN status after an operation; pin-blocked too when `wasBlocked` is
    /// false and the PIN is blocked now.
    void pinStatus(const std::string& cardId, const std::string& pinId, const PinStatus& pin, PinOperation operation,
                   bool wasBlocked) const;

    /// certificate-expired or certificate-expiring for one certificate of an
    /// inserted card, when it is either; nothing otherwise.
    void certificateExpiry(const std::string& cardId, const std::string& certificateId, const std::string& notAfter,
                           const cert::Expiry& expiry) const;

    int warnDays() const noexcept { return warnDays_; }

private:
    void publish(std::string_view type, const nlohmann::ordered_json& payload) const;

    std::shared_ptr<EventBus> bus_;
    int warnDays_;
};

}  // namespace inkan::service
