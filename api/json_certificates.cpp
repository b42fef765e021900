#include "api/json_certificates.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "daemon/base64.hpp"
#include "daemon/service/certificate_names.hpp"

namespace inkan::api {

namespace {

std::optional<cert::CertificateInfo> tryParse(const CertificateSummary& certificate)
{
    try {
        return cert::parseCertificate(certificate.der);
    } catch (const std::exception&) {
        // Listed as the service read it (see the header).
        return std::nullopt;
    }
}

/// What a listing needs of one certificate, prepared once: the decoded
/// certificate and the listing's JSON up to its expiry fields. Everything in
/// it is a function of the fields compared in matches(), so an entry is
/// reused exactly while the card service hands over the same certificate.
struct PreparedCertificate {
    CertificateSummary fields;  // what the entry was prepared from
    std::optional<cert::CertificateInfo> info;
    std::string json;  // certificateListingJson() without daysLeft/expired/expiringSoon, closing '}' left off

    bool matches(const CertificateSummary& c) const
    {
        return c.der == fields.der && c.id == fields.id && c.subject == fields.subject && c.issuer == fields.issuer &&
               c.serialNumber == fields.serialNumber && c.notBefore == fields.notBefore && c.notAfter == fields.notAfter;
    }
};

// Certificates listed recently, by (issuer, serial number), which names one
// certificate (RFC 5280 §4.1.2.2). A card has a handful; the bound only keeps
// a long-running inkand from collecting every card it ever saw.
constexpr std::size_t kMaxPreparedCertificates = 64;

class PreparedCertificates {
public:
    std::shared_ptr<const PreparedCertificate> get(const CertificateSummary& certificate)
    {
        const Key key{certificate.issuer, certificate.serialNumber};
        {
            const std::lock_guard lock(mutex_);
            const auto found = entries_.find(key);
            if (found != entries_.end() && found->second->matches(certificate)) return found->second;
        }
        auto prepared = prepare(certificate);  // outside the lock: parsing takes a while
        const std::lock_guard lock(mutex_);
        if (entries_.size() >= kMaxPreparedCertificates) entries_.clear();
        entries_[key] = prepared;
        return prepared;
    }

private:
    using Key = std::pair<std::string, std::string>;

    static std::shared_ptr<const PreparedCertificate> prepare(const CertificateSummary& certificate)
    {
        auto prepared = std::make_shared<PreparedCertificate>();
        prepared->fields = certificate;
        prepared->info = tryParse(certificate);
        Json json = toJson(certificate);
        if (prepared->info && prepared->info->registry.corporation) {
            const auto& corporation = *prepared->info->registry.corporation;
            json["registry"] = Json{{"corporateName", corporation.corporateName ? Json(*corporation.corporateName) : Json(nullptr)},
                                    {"registeredNumber", corporation.registeredNumber ? Json(*corporation.registeredNumber) : Json(nullptr)}};
        }
        prepared->json = json.dump(-1, ' ', false, Json::error_handler_t::replace);
        prepared->json.pop_back();  // the '}': the expiry fields follow
        return prepared;
    }

    std::mutex mutex_;
    std::map<Key, std::shared_ptr<const PreparedCertificate>> entries_;
};

PreparedCertificates& preparedCertificates()
{
    static PreparedCertificates cache;
    return cache;
}

// Cards listed recently: each card's own fields serialized, by card id, kept
// with the key they were serialized from (cardFieldsKey). A PIN counter or a
// policy verdict that changes changes the key, and the fields are written
// again. The bound as for the certificates.
constexpr std::size_t kMaxPreparedCards = 64;

class PreparedCardFields {
public:
    /// The serialized fields of `card` without the closing '}'.
    std::string get(const CardSummary& card)
    {
        std::string key = cardFieldsKey(card);
        {
            const std::lock_guard lock(mutex_);
            const auto found = entries_.find(card.id);
            if (found != entries_.end() && found->second.key == key) return found->second.text;
        }
        std::string text = cardFieldsJson(card).dump(-1, ' ', false, Json::error_handler_t::replace);
        text.pop_back();
        const std::lock_guard lock(mutex_);
        if (entries_.size() >= kMaxPreparedCards) entries_.clear();
        entries_[card.id] = Entry{std::move(key), text};
        return text;
    }

private:
    struct Entry {
        std::string key;
        std::string text;
    };
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

PreparedCardFields& preparedCardFields()
{
    static PreparedCardFields cache;
    return cache;
}

/// The listing JSON of a prepared certificate, with its expiry as of `expiry.now()`.
void appendListing(std::string& out, const PreparedCertificate& prepared, const ExpiryPolicy& expiry)
{
    out += prepared.json;
    if (prepared.info) {
        const cert::Expiry state = cert::expiryOf(*prepared.info, expiry.now(), expiry.warningDays);
        out += ",\"daysLeft\":";
        out += std::to_string(state.daysLeft);
        out += state.expired ? ",\"expired\":true" : ",\"expired\":false";
        out += state.expiringSoon ? ",\"expiringSoon\":true" : ",\"expiringSoon\":false";
    }
    out += '}';
}

template <class T>
Json optionalJson(const std::optional<T>& value)
{
    return value ? Json(*value) : Json(nullptr);
}

Json stringsJson(const std::vector<std::string>& values)
{
    Json list = Json::array();
    for (const auto& value : values) list.push_back(value);
    return list;
}

void addExpiry(Json& json, const cert::Expiry& expiry)
{
    json["daysLeft"] = expiry.daysLeft;
    json["expired"] = expiry.expired;
    json["expiringSoon"] = expiry.expiringSoon;
}

Json policiesJson(const std::vector<cert::PolicyInfo>& policies)
{
    Json list = Json::array();
    for (const auto& policy : policies) list.push_back(Json{{"oid", policy.oid}, {"notices", stringsJson(policy.notices)}});
    return list;
}

Json attributesJson(const std::vector<service::NameAttribute>& attributes)
{
    Json list = Json::array();
    for (const auto& a : attributes) list.push_back(Json{{"type", a.type}, {"oid", a.oid}, {"value", a.value}});
    return list;
}

Json registryJson(const cert::RegistryExtensions& registry)
{
    if (!registry.present()) return nullptr;
    const cert::RegisteredCorporationInfo corporation = registry.corporation.value_or(cert::RegisteredCorporationInfo{});
    return Json{
        {"corporateName", optionalJson(corporation.corporateName)},
        {"registeredNumber", optionalJson(corporation.registeredNumber)},
        {"headOffice", optionalJson(corporation.headOffice)},
        {"representativeName", optionalJson(corporation.representativeName)},
        {"representativeTitle", optionalJson(corporation.representativeTitle)},
        {"registryOffice", optionalJson(corporation.registryOffice)},
        {"registrar", optionalJson(registry.registrar)},
        {"policies", policiesJson(registry.certificatePoliciesJP)},
        {"undecodable", stringsJson(registry.undecodable)},
    };
}

Json subjectAltNamesJson(const cert::SubjectAltNames& names)
{
    Json others = Json::array();
    for (const auto& other : names.otherName) {
        others.push_back(Json{{"oid", other.oid}, {"value", other.value}, {"isString", other.isString}});
    }
    return Json{
        {"email", stringsJson(names.email)},       {"dns", stringsJson(names.dns)},
        {"uri", stringsJson(names.uri)},           {"ip", stringsJson(names.ip)},
        {"directoryName", stringsJson(names.directoryName)}, {"otherName", std::move(others)},
    };
}

Json revocationJson(const service::CertificateValidation& validation)
{
    if (!validation.revocation) {
        const bool disabled = validation.revocationSkipped == service::RevocationSkip::Disabled;
        return Json{
            {"checked", false},
            {"status", "unknown"},
            {"source", nullptr},
            {"cause", service::revocationSkipName(validation.revocationSkipped)},
            {"detail", disabled ? "revocation checking is turned off in the configuration"
                                : "there is no valid chain, hence no issuer to ask"},
            {"fromCache", false},
            {"attempts", Json::array()},
        };
    }
    const cert::RevocationResult& r = *validation.revocation;
    Json attempts = Json::array();
    for (const auto& attempt : r.attempts) {
        attempts.push_back(Json{
            {"method", cert::revocationMethodName(attempt.method)},
            {"url", attempt.url},
            {"status", cert::revocationStatusName(attempt.status)},
            {"cause", cert::unknownCauseName(attempt.cause)},
            {"detail", attempt.detail},
            {"fromCache", attempt.fromCache},
        });
    }
    return Json{
        {"checked", true},
        {"status", cert::revocationStatusName(r.status)},
        {"source", r.source ? Json(cert::revocationMethodName(*r.source)) : Json(nullptr)},
        {"url", r.url.empty() ? Json(nullptr) : Json(r.url)},
        {"reason", optionalJson(r.reason)},
        {"revocationTime", optionalJson(r.revocationTime)},
        {"thisUpdate", optionalJson(r.thisUpdate)},
        {"nextUpdate", optionalJson(r.nextUpdate)},
        {"cause", cert::unknownCauseName(r.cause)},
        {"detail", r.detail},
        {"fromCache", r.fromCache},
        {"checkedAt", r.checkedAt},
        {"attempts", std::move(attempts)},
    };
}

}  // namespace

Json certificateListingJson(const CertificateSummary& certificate, const ExpiryPolicy& expiry)
{
    std::string text;
    appendListing(text, *preparedCertificates().get(certificate), expiry);
    return Json::parse(text);
}

Json cardJson(const CardSummary& card, const ExpiryPolicy& expiry)
{
    return Json::parse(cardJsonText(card, expiry));
}

std::string cardJsonText(const CardSummary& card, const ExpiryPolicy& expiry)
{
    // The card's own fields as json_mapping writes them (whatever they become),
    // serialized once while they stay the same; its certificates from their
    // prepared listings.
    std::string text = preparedCardFields().get(card);
    text += text.size() > 1 ? ",\"certificates\":[" : "\"certificates\":[";
    bool first = true;
    for (const auto& certificate : card.certificates) {
        if (!first) text += ',';
        first = false;
        appendListing(text, *preparedCertificates().get(certificate), expiry);
    }
    text += "]}";
    return text;
}

std::string cardsJsonText(const std::vector<CardSummary>& cards, const ExpiryPolicy& expiry)
{
    std::string text = "{\"cards\":[";
    for (std::size_t i = 0; i < cards.size(); ++i) {
        if (i) text += ',';
        text += cardJsonText(cards[i], expiry);
    }
    text += "]}";
    return text;
}

Json statusJson(const AgentStatus& status, const std::vector<CardSummary>& cards, std::string_view version,
                const ExpiryPolicy& expiry)
{
    Json json = statusToJson(status, version);
    for (auto& reader : json["readers"]) {
        if (!reader.contains("cardId")) continue;
        const auto card = std::find_if(cards.begin(), cards.end(), [&](const CardSummary& c) { return c.id == reader["cardId"].get<std::string>(); });
        if (card == cards.end()) continue;
        // The card's own certificate: the first that is not a CA (as
        // service::ownCertificate() decides, here from the prepared listings).
        std::shared_ptr<const PreparedCertificate> own;
        for (const auto& certificate : card->certificates) {
            auto prepared = preparedCertificates().get(certificate);
            const auto& parsed = prepared->info;
            if (parsed && !(parsed->basicConstraints && parsed->basicConstraints->ca)) {
                own = std::move(prepared);
                break;
            }
        }
        if (!own) continue;
        const auto& info = own->info;
        Json facts{{"certificateId", own->fields.id}, {"notAfter", info->notAfter}};
        addExpiry(facts, cert::expiryOf(*info, expiry.now(), expiry.warningDays));
        reader["certificateExpiry"] = std::move(facts);
    }
    return json;
}

Json certificateResourceJson(const CertificateSummary& certificate, const ExpiryPolicy& expiry)
{
    const auto info = tryParse(certificate);
    if (!info) return certificateWithDer(certificate);

    Json json = toJson(certificate);
    const service::CertificateNames names = service::certificateNames(certificate.der);
    json["subjectAttributes"] = attributesJson(names.subject);
    json["issuerAttributes"] = attributesJson(names.issuer);
    json["version"] = info->version;
    json["signatureAlgorithm"] = info->signatureAlgorithm;
    json["selfSigned"] = info->selfSigned;
    const cert::Expiry state = cert::expiryOf(*info, expiry.now(), expiry.warningDays);
    addExpiry(json, state);
    json["notYetValid"] = state.notYetValid;
    json["key"] = Json{{"type", info->publicKey.type}, {"bits", info->publicKey.bits}, {"curve", optionalJson(info->publicKey.curve)}};
    json["keyUsage"] = stringsJson(info->keyUsage);
    Json extendedKeyUsage = Json::array();
    for (const auto& usage : info->extendedKeyUsage) extendedKeyUsage.push_back(Json{{"oid", usage.oid}, {"name", usage.name}});
    json["extendedKeyUsage"] = std::move(extendedKeyUsage);
    json["policies"] = policiesJson(info->certificatePolicies);
    json["basicConstraints"] = info->basicConstraints
        ? Json{{"ca", info->basicConstraints->ca},
               {"pathLength", optionalJson(info->basicConstraints->pathLength)},
               {"critical", info->basicConstraints->critical}}
        : Json(nullptr);
    json["ocspUrls"] = stringsJson(info->ocspUrls);
    json["caIssuersUrls"] = stringsJson(info->caIssuersUrls);
    json["crlUrls"] = stringsJson(info->crlUrls);
    json["sha256Fingerprint"] = info->sha256Fingerprint;
    json["subjectAltNames"] = subjectAltNamesJson(info->subjectAltNames);
    json["registry"] = registryJson(info->registry);
    Json extensions = Json::array();
    for (const auto& extension : info->extensions) {
        extensions.push_back(Json{{"oid", extension.id.oid},
                                  {"name", extension.id.name},
                                  {"critical", extension.critical},
                                  {"decoded", extension.decoded}});
    }
    json["extensions"] = std::move(extensions);
    json["der"] = base64Encode(certificate.der);
    return json;
}

Json toJson(const service::CertificateValidation& validation)
{
    Json certificates = Json::array();
    for (const auto& link : validation.chain.chain) {
        certificates.push_back(Json{{"subject", link.subject},
                                    {"issuer", link.issuer},
                                    {"serialNumber", link.serialNumber},
                                    {"notAfter", link.notAfter},
                                    {"trustAnchor", link.trustAnchor}});
    }
    const auto& chain = validation.chain;
    return Json{
        {"verdict", service::verdictName(validation.verdict)},
        {"summary", validation.summary},
        {"checkedAt", validation.checkedAt},
        {"chain",
         Json{{"valid", chain.valid},
              {"reason", cert::chainFailureName(chain.reason)},
              {"detail", chain.detail},
              {"failingDepth", chain.failingDepth},
              {"trustAnchors", validation.trustAnchorCount},
              {"trustAnchorsProblem", validation.trustAnchorsProblem.empty() ? Json(nullptr) : Json(validation.trustAnchorsProblem)},
              {"certificates", std::move(certificates)}}},
        {"revocation", revocationJson(validation)},
    };
}

Json toJson(const service::SelfTestReport& report)
{
    Json checks = Json::array();
    for (const auto& check : report.checks) {
        checks.push_back(Json{{"name", check.name}, {"result", service::checkResultName(check.result)}, {"detail", check.detail}});
    }
    return Json{{"cardId", report.cardId}, {"passed", report.passed}, {"checks", std::move(checks)}};
}

}  // namespace inkan::api
