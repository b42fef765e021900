#include "api/json_mapping.hpp"

#include <openssl/crypto.h>

#include "daemon/base64.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

namespace {

// FIPS 180-4 output sizes in bytes.
constexpr std::size_t kSha256Length = 32;
constexpr std::size_t kSha384Length = 48;
constexpr std::size_t kSha512Length = 64;

Error badField(std::string_view field, std::string_view problem)
{
    return Error(ErrorCode::BadRequest, "field '" + std::string(field) + "' " + std::string(problem));
}

/// SAX handler collecting the top-level fields of one JSON object.
class TopLevelCollector final : public nlohmann::json_sax<nlohmann::json> {
public:
    using Fields = std::map<std::string, JsonBody::Field, std::less<>>;

    explicit TopLevelCollector(Fields& fields) : fields_(fields) {}

    std::optional<Error> failure;

    bool null() override { return scalar(JsonBody::Kind::Null); }
    bool boolean(bool value) override
    {
        if (depth_ != 1) return scalar(JsonBody::Kind::Boolean);
        JsonBody::Field* field = store(JsonBody::Kind::Boolean);
        if (field) field->flag = value;
        return field != nullptr;
    }
    bool number_integer(number_integer_t) override { return scalar(JsonBody::Kind::Number); }
    bool number_unsigned(number_unsigned_t) override { return scalar(JsonBody::Kind::Number); }
    bool number_float(number_float_t, const string_t&) override { return scalar(JsonBody::Kind::Number); }
    bool binary(binary_t&) override { return scalar(JsonBody::Kind::Null); }  // not produced by the JSON parser

    bool string(string_t& value) override
    {
        bool keepGoing = true;
        if (depth_ == 0) {
            keepGoing = fail("request body must be a JSON object");
        } else if (depth_ == 1) {
            JsonBody::Field* field = store(JsonBody::Kind::String);
            if (field) field->text = Secret(value);
            keepGoing = field != nullptr;
        } else if (depth_ == 3 && array_ && inItem_) {
            auto [it, inserted] = array_->items.back().try_emplace(itemKey_);
            if (!inserted) {
                keepGoing = fail("a member of field '" + arrayKey_ + "' appears more than once in one item");
            } else {
                it->second = Secret(value);
            }
        } else {
            itemScalar();
        }
        // The lexer reuses this buffer for the next token; overwrite what may be a PIN now.
        if (!value.empty()) OPENSSL_cleanse(value.data(), value.size());
        return keepGoing;
    }

    bool start_object(std::size_t) override
    {
        if (depth_ == 0 && started_) return fail("request body must be one JSON object");
        if (depth_ == 1 && !store(JsonBody::Kind::Object)) return false;
        if (depth_ == 2 && array_) {
            array_->items.emplace_back();
            inItem_ = true;
        }
        started_ = true;
        ++depth_;
        return true;
    }
    bool end_object() override
    {
        --depth_;
        if (depth_ == 2) inItem_ = false;
        return true;
    }
    bool start_array(std::size_t) override
    {
        if (depth_ == 0) return fail("request body must be a JSON object");
        if (depth_ == 1) {
            array_ = store(JsonBody::Kind::Array);
            if (!array_) return false;
            arrayKey_ = currentKey_;
        } else {
            itemScalar();
        }
        ++depth_;
        return true;
    }
    bool end_array() override
    {
        --depth_;
        if (depth_ == 1) array_ = nullptr;
        return true;
    }

    bool key(string_t& name) override
    {
        if (depth_ == 1) currentKey_ = name;
        if (depth_ == 3) itemKey_ = name;
        return true;
    }

    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override
    {
        // The offending token is not quoted back: it may be part of a PIN.
        return fail("request body is not valid JSON (error at byte " + std::to_string(position) + ")");
    }

private:
    bool scalar(JsonBody::Kind kind)
    {
        if (depth_ == 0) return fail("request body must be a JSON object");
        if (depth_ == 1) return store(kind) != nullptr;
        itemScalar();
        return true;
    }

    /// A value right inside a top-level array that is not an object.
    void itemScalar()
    {
        if (depth_ == 2 && array_) array_->onlyObjects = false;
    }

    JsonBody::Field* store(JsonBody::Kind kind)
    {
        auto [it, inserted] = fields_.try_emplace(currentKey_);
        if (!inserted) {
            // Two values for one name would let a proxy and inkan read different PINs.
            fail("field '" + currentKey_ + "' appears more than once");
            return nullptr;
        }
        it->second.kind = kind;
        return &it->second;
    }

    bool fail(std::string message)
    {
        if (!failure) failure.emplace(ErrorCode::BadRequest, std::move(message));
        return false;
    }

    Fields& fields_;
    int depth_ = 0;
    bool started_ = false;
    std::string currentKey_;
    JsonBody::Field* array_ = nullptr;  // the top-level array being read
    std::string arrayKey_;
    bool inItem_ = false;               // inside one of its objects
    std::string itemKey_;
};

std::string_view kindName(JsonBody::Kind kind)
{
    switch (kind) {
    case JsonBody::Kind::String: return "a string";
    case JsonBody::Kind::Number: return "a number";
    case JsonBody::Kind::Boolean: return "a boolean";
    case JsonBody::Kind::Null: return "null";
    case JsonBody::Kind::Array: return "an array";
    case JsonBody::Kind::Object: return "an object";
    }
    return "a value";
}

}  // namespace

// ---- responses ------------------------------------------------------------

Json toJson(const PinStatus& pin)
{
    Json json{{"triesLeft", pin.triesLeftKnown ? Json(pin.triesLeft) : Json(nullptr)},
              {"maxTries", pin.maxTriesKnown ? Json(pin.maxTries) : Json(nullptr)},
              {"blocked", pin.blocked}};
    if (pin.triesSpent) json["triesSpent"] = true;
    return json;
}

Json toJson(const PinFormat& format)
{
    return Json{{"minLength", format.minLength},
                {"maxLength", format.maxLength},
                {"alphabet", format.alphabet == PinFormat::Alphabet::Digits              ? "digits"
                             : format.alphabet == PinFormat::Alphabet::UpperAlphanumeric ? "upper-alphanumeric"
                                                                                         : "any"}};
}

Json toJson(const PinSummary& pin, const PinStatus& status)
{
    Json json{{"id", pin.id},
              {"label", pin.label},
              {"triesLeft", status.triesLeftKnown ? Json(status.triesLeft) : Json(nullptr)},
              {"maxTries", status.maxTriesKnown ? Json(status.maxTries) : Json(nullptr)},
              {"blocked", status.blocked},
              {"format", toJson(pin.format)},
              {"unblockable", pin.unblockCodeFormat.has_value()}};
    if (pin.unblockCodeFormat) json["unblockCodeFormat"] = toJson(*pin.unblockCodeFormat);
    if (status.triesSpent) json["triesSpent"] = true;
    return json;
}

Json toJson(const CertificateSummary& certificate)
{
    if (!certificate.readable) {
        Json json{{"id", certificate.id}, {"readable", false}};
        if (certificate.readAfterPin) json["readAfterPin"] = *certificate.readAfterPin;
        if (certificate.keyPin) json["keyPin"] = *certificate.keyPin;
        return json;
    }
    Json json{
        {"id", certificate.id},
        {"readable", true},
        {"subject", certificate.subject},
        {"issuer", certificate.issuer},
        {"serialNumber", certificate.serialNumber},
        {"notBefore", certificate.notBefore},
        {"notAfter", certificate.notAfter},
    };
    if (certificate.keyPin) json["keyPin"] = *certificate.keyPin;
    return json;
}

Json certificateWithDer(const CertificateSummary& certificate)
{
    Json json = toJson(certificate);
    json["der"] = base64Encode(certificate.der);
    return json;
}

Json toJson(const CardSummary& card)
{
    Json json = cardFieldsJson(card);
    Json certificates = Json::array();
    for (const auto& certificate : card.certificates) certificates.push_back(toJson(certificate));
    json["certificates"] = std::move(certificates);
    return json;
}

Json cardFieldsJson(const CardSummary& card)
{
    Json pins = Json::array();
    for (const auto& pin : card.pins) pins.push_back(toJson(pin, pin.status));
    return Json{
        {"id", card.id},
        {"reader", card.reader},
        {"profile", card.profile},
        {"label", card.label},
        {"pin", toJson(card.defaultPin().status)},
        {"pins", std::move(pins)},
        {"signingCertificate", card.signingCertificateId},
        {"pinpad", card.pinpad},
        {"blockedByPolicy", card.blockedByPolicy},
    };
}

namespace {

// cardFieldsKey's parts: each text with its length in front, so no two
// different cards give the same key.
void addKeyPart(std::string& key, std::string_view text)
{
    key += std::to_string(text.size());
    key += ':';
    key += text;
}

void addKeyPart(std::string& key, long long number) { addKeyPart(key, std::to_string(number)); }

void addKeyPart(std::string& key, const PinStatus& status)
{
    addKeyPart(key, status.triesLeft);
    addKeyPart(key, status.maxTries);
    addKeyPart(key, status.blocked ? 1 : 0);
}

void addKeyPart(std::string& key, const std::optional<PinFormat>& format)
{
    if (!format) return addKeyPart(key, -1);
    addKeyPart(key, format->minLength);
    addKeyPart(key, format->maxLength);
    addKeyPart(key, static_cast<long long>(format->alphabet));
}

}  // namespace

std::string cardFieldsKey(const CardSummary& card)
{
    std::string key;
    key.reserve(256);
    addKeyPart(key, card.id);
    addKeyPart(key, card.reader);
    addKeyPart(key, card.profile);
    addKeyPart(key, card.label);
    addKeyPart(key, card.defaultPin().status);
    addKeyPart(key, static_cast<long long>(card.pins.size()));
    for (const auto& pin : card.pins) {
        addKeyPart(key, pin.id);
        addKeyPart(key, pin.label);
        addKeyPart(key, pin.status);
        addKeyPart(key, std::optional<PinFormat>(pin.format));
        addKeyPart(key, pin.unblockCodeFormat);
    }
    addKeyPart(key, card.signingCertificateId);
    addKeyPart(key, card.pinpad ? 1 : 0);
    addKeyPart(key, card.blockedByPolicy ? 1 : 0);
    return key;
}

Json toJson(const ReaderSummary& reader)
{
    Json json{{"name", reader.name}, {"cardPresent", reader.cardPresent}, {"pinpad", reader.pinpad}};
    if (reader.cardId) json["cardId"] = *reader.cardId;
    if (reader.atr) json["atr"] = *reader.atr;
    if (reader.blockedByPolicy) json["blockedByPolicy"] = true;
    return json;
}

Json statusToJson(const AgentStatus& status, std::string_view version)
{
    Json readers = Json::array();
    for (const auto& reader : status.readers) readers.push_back(toJson(reader));
    return Json{{"version", version}, {"pcscAvailable", status.pcscAvailable}, {"readers", std::move(readers)}};
}

Json toJson(const SignResult& result)
{
    return Json{
        {"signature", base64Encode(result.signature)},
        {"signatureAlgorithm", result.signatureAlgorithm},
        {"certificateId", result.certificateId},
        {"certificate", base64Encode(result.certificate)},
    };
}

Response jsonResponse(const Json& body, int status)
{
    // Reader names and certificate fields come from outside: never throw on bad UTF-8.
    return jsonResponse(body.dump(-1, ' ', false, Json::error_handler_t::replace), status);
}

Response jsonResponse(std::string serialized, int status)
{
    Response response;
    response.status = status;
    response.contentType = std::string(kJsonContentType);
    response.body = std::move(serialized);
    return response;
}

// ---- requests -------------------------------------------------------------

JsonBody JsonBody::parse(std::string_view text)
{
    JsonBody body;
    TopLevelCollector collector(body.fields_);
    const bool ok = nlohmann::json::sax_parse(text, &collector, nlohmann::json::input_format_t::json, /*strict=*/true);
    if (collector.failure) throw *collector.failure;
    if (!ok) throw Error(ErrorCode::BadRequest, "request body is not valid JSON");
    return body;
}

const JsonBody::Field* JsonBody::find(std::string_view field) const
{
    const auto it = fields_.find(field);
    return it == fields_.end() ? nullptr : &it->second;
}

Secret JsonBody::requiredSecret(std::string_view field) const
{
    const Field* value = find(field);
    if (!value) throw badField(field, "is required");
    if (value->kind != Kind::String) throw badField(field, "must be a string, not " + std::string(kindName(value->kind)));
    return Secret(value->text.view());
}

std::optional<Secret> JsonBody::optionalSecret(std::string_view field) const
{
    const Field* value = find(field);
    if (!value || value->kind == Kind::Null) return std::nullopt;
    if (value->kind != Kind::String) throw badField(field, "must be a string, not " + std::string(kindName(value->kind)));
    return Secret(value->text.view());
}

std::string JsonBody::requiredString(std::string_view field) const
{
    return std::string(requiredSecret(field).view());
}

std::optional<std::string> JsonBody::optionalString(std::string_view field) const
{
    auto secret = optionalSecret(field);
    if (!secret) return std::nullopt;
    return std::string(secret->view());
}

std::optional<bool> JsonBody::optionalBool(std::string_view field) const
{
    const Field* value = find(field);
    if (!value || value->kind == Kind::Null) return std::nullopt;
    if (value->kind != Kind::Boolean) throw badField(field, "must be true or false, not " + std::string(kindName(value->kind)));
    return value->flag;
}

const std::vector<JsonBody::Item>* JsonBody::optionalObjectArray(std::string_view field) const
{
    const Field* value = find(field);
    if (!value || value->kind == Kind::Null) return nullptr;
    if (value->kind != Kind::Array || !value->onlyObjects) throw badField(field, "must be an array of objects");
    return &value->items;
}

std::optional<DigestAlgorithm> digestAlgorithmFromName(std::string_view name)
{
    if (name == "SHA-256") return DigestAlgorithm::Sha256;
    if (name == "SHA-384") return DigestAlgorithm::Sha384;
    if (name == "SHA-512") return DigestAlgorithm::Sha512;
    return std::nullopt;
}

std::string_view digestAlgorithmName(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return "SHA-256";
    case DigestAlgorithm::Sha384: return "SHA-384";
    case DigestAlgorithm::Sha512: return "SHA-512";
    }
    return "SHA-256";
}

std::size_t digestLength(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return kSha256Length;
    case DigestAlgorithm::Sha384: return kSha384Length;
    case DigestAlgorithm::Sha512: return kSha512Length;
    }
    return kSha256Length;
}

SignRequest parseSignRequest(const JsonBody& body)
{
    SignRequest request;

    const std::string algorithmName = body.requiredString("digestAlgorithm");
    const auto algorithm = digestAlgorithmFromName(algorithmName);
    if (!algorithm) {
        throw Error(ErrorCode::UnsupportedAlgorithm,
                    "field 'digestAlgorithm' must be one of SHA-256, SHA-384, SHA-512");
    }
    request.digestAlgorithm = *algorithm;

    auto digest = base64Decode(body.requiredString("digest"));
    if (!digest) throw badField("digest", "must be standard base64 with padding");
    const std::size_t expected = digestLength(*algorithm);
    if (digest->size() != expected) {
        throw badField("digest", "must be " + std::to_string(expected) + " bytes for " +
                                     std::string(digestAlgorithmName(*algorithm)) + ", not " +
                                     std::to_string(digest->size()));
    }
    request.digest = std::move(*digest);

    request.certificateId = body.optionalString("certificate");
    if (request.certificateId && request.certificateId->empty()) throw badField("certificate", "must not be empty");
    request.pin = body.optionalSecret("pin");
    return request;
}

}  // namespace inkan::api
