// inkan — JSON <-> domain, the one place where API field names live
// (certificates' decoded fields, validations and self-tests: json_certificates.hpp).
//
// Responses: domain structs of daemon/service/card_agent.hpp to the JSON shapes
// of openapi.yaml. Requests: a body reader that keeps only the top-level fields
// and stores every string in an inkan::Secret, so PINs are never held in a
// plain std::string (see JsonBody).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_message.hpp"
#include "daemon/secret.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::api {

inline constexpr std::string_view kJsonContentType = "application/json";

using Json = nlohmann::ordered_json;

Json toJson(const PinStatus& pin);
/// One PIN of a card with its state `status` (GET /v1/cards/{id}/pins[/{pinId}]).
Json toJson(const PinSummary& pin, const PinStatus& status);
/// A certificate as listed with a card (no DER).
Json toJson(const CertificateSummary& certificate);
/// A certificate on its own: the listing fields plus `der`.
Json certificateWithDer(const CertificateSummary& certificate);
Json toJson(const CardSummary& card);
/// The card's own fields as toJson(card) writes them, without `certificates`.
Json cardFieldsJson(const CardSummary& card);
/// Everything cardFieldsJson() reads, as one string: cards with equal keys
/// have equal fields (the listings keep their serialized fields by it,
/// json_certificates.cpp). A field cardFieldsJson() writes must be in here.
std::string cardFieldsKey(const CardSummary& card);
Json toJson(const ReaderSummary& reader);
Json statusToJson(const AgentStatus& status, std::string_view version);
Json toJson(const SignResult& result);

/// A 200 (or other) response carrying `body` as application/json.
Response jsonResponse(const Json& body, int status = 200);
/// The same for a body serialized already (the prepared listings, json_certificates.hpp).
Response jsonResponse(std::string serialized, int status = 200);

/// The top-level fields of a JSON object request body.
///
/// Parsed with nlohmann's SAX interface: string values are copied straight
/// into inkan::Secret and the parser's own buffer is overwritten right away;
/// nested values and unknown fields are skipped without being stored. Every
/// accessor throws inkan::Error(BadRequest) with a detail naming the field.
class JsonBody {
public:
    /// Throws BadRequest when `text` is not one JSON object, or repeats a field.
    static JsonBody parse(std::string_view text);

    /// A string field that must be present.
    Secret requiredSecret(std::string_view field) const;
    /// A string field that may be absent or null.
    std::optional<Secret> optionalSecret(std::string_view field) const;
    std::string requiredString(std::string_view field) const;
    std::optional<std::string> optionalString(std::string_view field) const;
    /// A boolean field that may be absent or null.
    std::optional<bool> optionalBool(std::string_view field) const;

    /// One object of an array of objects: its string members (others are skipped).
    using Item = std::map<std::string, Secret, std::less<>>;
    /// A field that must be absent, null, or an array of objects (e.g. the
    /// e-Gov format's "files"): its items, or nullptr when absent or null.
    const std::vector<Item>* optionalObjectArray(std::string_view field) const;

    enum class Kind { String, Number, Boolean, Null, Array, Object };
    struct Field {
        Kind kind = Kind::Null;
        Secret text;        // the value when kind == String
        bool flag = false;  // the value when kind == Boolean
        std::vector<Item> items;      // kind == Array: its objects
        bool onlyObjects = true;      // kind == Array: no item was anything but an object
    };

private:
    const Field* find(std::string_view field) const;
    std::map<std::string, Field, std::less<>> fields_;
};

/// The body of POST /v1/cards/{cardId}/sign, validated before any card access.
/// Unknown algorithm names -> UnsupportedAlgorithm; a digest of the wrong
/// length, bad base64, missing or mistyped fields -> BadRequest.
SignRequest parseSignRequest(const JsonBody& body);

/// "SHA-256" -> Sha256 etc.; nullopt for any other name.
std::optional<DigestAlgorithm> digestAlgorithmFromName(std::string_view name);
std::string_view digestAlgorithmName(DigestAlgorithm algorithm);
/// The digest length in bytes (FIPS 180-4: 32, 48, 64).
std::size_t digestLength(DigestAlgorithm algorithm);

}  // namespace inkan::api
