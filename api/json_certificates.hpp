// inkan — JSON of certificates, their expiry, validation and the card
// self-test (the certificate half of json_mapping.hpp; openapi.yaml shapes).
//
// Certificate fields are decoded from the DER the card service read. For the
// listings (GET /v1/cards, /v1/cards/{id}, /v1/status) each certificate is
// decoded and its listing JSON written once, when it is first listed, and kept
// while the service hands over the same certificate; only daysLeft, expired and
// expiringSoon, which move with the clock, are computed per request. A DER
// that does not parse keeps the listing fields the service gave it and gains
// nothing else.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_mapping.hpp"
#include "daemon/cert/certificate.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/service/self_test.hpp"

namespace inkan::api {

/// When a certificate counts as expiring soon, and the clock it is judged by.
struct ExpiryPolicy {
    int warningDays = cert::kDefaultExpiryWarningDays;
    std::function<std::chrono::system_clock::time_point()> clock;  // null: the system clock

    std::chrono::system_clock::time_point now() const { return clock ? clock() : std::chrono::system_clock::now(); }
};

/// A certificate as listed with a card: the listing fields plus daysLeft,
/// expired, expiringSoon and, for registry certificates,
/// registry {corporateName, registeredNumber}.
Json certificateListingJson(const CertificateSummary& certificate, const ExpiryPolicy& expiry);

/// A card with its certificates as certificateListingJson() shows them.
Json cardJson(const CardSummary& card, const ExpiryPolicy& expiry);
/// The same, serialized (what GET /v1/cards/{cardId} answers).
std::string cardJsonText(const CardSummary& card, const ExpiryPolicy& expiry);
/// GET /v1/cards: {"cards": [...]}, serialized.
std::string cardsJsonText(const std::vector<CardSummary>& cards, const ExpiryPolicy& expiry);

/// GET /v1/status: the status, each reader holding a listed card with
/// certificateExpiry {certificateId, notAfter, daysLeft, expiringSoon, expired}
/// of the card's own certificate.
Json statusJson(const AgentStatus& status, const std::vector<CardSummary>& cards, std::string_view version,
                const ExpiryPolicy& expiry);

/// GET /v1/cards/{cardId}/certificates/{certId}: everything decoded, and `der`.
Json certificateResourceJson(const CertificateSummary& certificate, const ExpiryPolicy& expiry);

Json toJson(const service::CertificateValidation& validation);
Json toJson(const service::SelfTestReport& report);

}  // namespace inkan::api
