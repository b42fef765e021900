#include "daemon/service/card_events.hpp"

#include "daemon/error.hpp"
#include "daemon/pcsc/bytes.hpp"

namespace inkan::service {

namespace {

std::string_view operationName(PinOperation operation)
{
    switch (operation) {
    case PinOperation::Status: return "status";
    case PinOperation::Verify: return "verify";
    case PinOperation::Change: return "change";
    case PinOperation::Unblock: return "unblock";
    case PinOperation::Sign: return "sign";
    }
    return "status";
}

}  // namespace

CardEvents::CardEvents(std::shared_ptr<EventBus> bus, int warnDays) : bus_(std::move(bus)), warnDays_(warnDays) {}

void CardEvents::publish(std::string_view type, const nlohmann::ordered_json& payload) const
{
    if (bus_) bus_->publish(type, payload);
}

void CardEvents::pcscAvailable(bool available) const
{
    publish(available ? event_type::kPcscAvailable : event_type::kPcscUnavailable, nlohmann::ordered_json::object());
}

void CardEvents::readerAdded(const std::string& reader) const
{
    publish(event_type::kReaderAdded, {{"reader", reader}});
}

void CardEvents::readerRemoved(const std::string& reader) const
{
    publish(event_type::kReaderRemoved, {{"reader", reader}});
}

void CardEvents::cardInserted(const std::string& reader, const Bytes& atr, const CardSummary& card) const
{
    publish(event_type::kCardInserted, {{"reader", reader},
                                        {"atr", pcsc::toHex(atr)},
                                        {"supported", true},
                                        {"cardId", card.id},
                                        {"profile", card.profile},
                                        {"label", card.label}});
}

void CardEvents::unusableCardInserted(const std::string& reader, const Bytes& atr, std::optional<ErrorCode> error) const
{
    nlohmann::ordered_json payload{{"reader", reader}, {"atr", pcsc::toHex(atr)}, {"supported", error.has_value()}};
    if (error) payload["error"] = std::string(errorCodeName(*error));
    publish(event_type::kCardInserted, payload);
}

void CardEvents::cardRemoved(const std::string& reader, const std::optional<std::string>& cardId) const
{
    nlohmann::ordered_json payload{{"reader", reader}};
    if (cardId) payload["cardId"] = *cardId;
    publish(event_type::kCardRemoved, payload);
}

void CardEvents::pinStatus(const std::string& cardId, const std::string& pinId, const PinStatus& pin,
                           PinOperation operation, bool wasBlocked) const
{
    publish(event_type::kPinStatus, {{"cardId", cardId},
                                     {"pinId", pinId},
                                     {"operation", operationName(operation)},
                                     {"triesLeft", pin.triesLeft},
                                     {"maxTries", pin.maxTries},
                                     {"blocked", pin.blocked}});
    if (pin.blocked && !wasBlocked) publish(event_type::kPinBlocked, {{"cardId", cardId}, {"pinId", pinId}});
}

void CardEvents::certificateExpiry(const std::string& cardId, const std::string& certificateId,
                                   const std::string& notAfter, const cert::Expiry& expiry) const
{
    if (!expiry.expired && !expiry.expiringSoon) return;
    publish(expiry.expired ? event_type::kCertificateExpired : event_type::kCertificateExpiring,
            {{"cardId", cardId}, {"certificateId", certificateId}, {"notAfter", notAfter}, {"daysLeft", expiry.daysLeft}});
}

}  // namespace inkan::service
