#include "daemon/security/policy.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon/error.hpp"
#include "daemon/security/origin.hpp"

namespace inkan::security {

namespace {

// Config keys (docs/security.md "Configuration").
constexpr std::string_view kAllowedOriginsKey = "allowedOrigins";
constexpr std::string_view kInsecureLocalhostKey = "allowInsecureLocalhostOrigins";
constexpr std::string_view kPinGuardThresholdKey = "pinGuardThreshold";
constexpr std::string_view kPinRateLimitAttemptsKey = "pinRateLimitAttempts";
constexpr std::string_view kPinRateLimitWindowKey = "pinRateLimitWindowSeconds";
constexpr std::string_view kPinentryProgramKey = "pinentryProgram";
constexpr std::string_view kPinentryTimeoutKey = "pinentryTimeoutSeconds";
constexpr std::string_view kPairingDialogKey = "pairingDialog";
constexpr std::string_view kCardsKey = "cards";
constexpr std::string_view kBlockedSerialsKey = "blockedCertificateSerials";

// Members of an "allowedOrigins" object and of a "cards" rule.
constexpr std::string_view kOriginMember = "origin";
constexpr std::string_view kOperationsMember = "operations";
constexpr std::string_view kCardsMember = "cards";
constexpr std::string_view kPinSourceMember = "pinSource";
constexpr std::string_view kAcknowledgeMember = "acknowledgeLowTries";
constexpr std::string_view kCardIdMember = "cardId";
constexpr std::string_view kSerialMember = "certificateSerial";
constexpr std::string_view kOriginsMember = "origins";

// An absolute guard; the guard never refuses a full counter's first try anyway (pin_guard.hpp).
constexpr int kMaxPinGuardThreshold = 9;
constexpr int kMaxPinRateLimitAttempts = 100;
constexpr int kMaxRateLimitWindowSeconds = 24 * 60 * 60;
constexpr int kMinPinentryTimeoutSeconds = 5;
constexpr int kMaxPinentryTimeoutSeconds = 600;

PolicyError error(const std::string& where, std::string_view key, const std::string& problem)
{
    return PolicyError(where + ": \"" + std::string(key) + "\" " + problem);
}

int integerIn(const nlohmann::json& value, int low, int high, const std::string& where, std::string_view key)
{
    if (!value.is_number_integer() || value.get<long long>() < low || value.get<long long>() > high) {
        throw error(where, key, "must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
    }
    return static_cast<int>(value.get<long long>());
}

bool boolean(const nlohmann::json& value, const std::string& where, std::string_view key)
{
    if (!value.is_boolean()) throw error(where, key, "must be true or false");
    return value.get<bool>();
}

std::vector<std::string> strings(const nlohmann::json& value, const std::string& where, std::string_view key)
{
    if (!value.is_array()) throw error(where, key, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (!item.is_string() || item.get<std::string>().empty()) throw error(where, key, "must hold non-empty strings");
        out.push_back(item.get<std::string>());
    }
    return out;
}

OperationSet operations(const nlohmann::json& value, const std::string& where, std::string_view key)
{
    OperationSet set;
    for (const auto& name : strings(value, where, key)) {
        const auto operation = operationFromName(name);
        if (!operation) throw error(where, key, "may hold only \"read\", \"sign\" and \"pin\"");
        set.add(*operation);
    }
    return set;
}

std::string origin(const std::string& text, const std::string& where, std::string_view key)
{
    try {
        return normalizeOrigin(text);
    } catch (const OriginSyntaxError& e) {
        throw error(where, key, "holds an invalid origin \"" + text + "\": " + e.what());
    }
}

CardRule parseCardRule(const nlohmann::json& entry, const std::string& where)
{
    if (!entry.is_object()) throw error(where, kCardsKey, "must hold objects");
    CardRule rule;
    for (const auto& [member, value] : entry.items()) {
        if (member == kCardIdMember) {
            if (!value.is_string() || value.get<std::string>().empty()) throw error(where, "cards[].cardId", "must be a card id");
            rule.cardId = value.get<std::string>();
        } else if (member == kSerialMember) {
            if (!value.is_string()) throw error(where, "cards[].certificateSerial", "must be a hex string");
            rule.certificateSerial = normalizeSerial(value.get<std::string>());
            if (rule.certificateSerial->empty()) throw error(where, "cards[].certificateSerial", "must be a hex string");
        } else if (member == kOriginsMember) {
            std::vector<std::string> origins;
            for (const auto& text : strings(value, where, "cards[].origins")) origins.push_back(origin(text, where, "cards[].origins"));
            rule.origins = std::move(origins);
        } else if (member == kOperationsMember) {
            rule.operations = operations(value, where, "cards[].operations");
        } else {
            throw error(where, "cards[]." + member, "is not a card rule member (cardId, certificateSerial, origins, operations)");
        }
    }
    if (rule.cardId.has_value() == rule.certificateSerial.has_value()) {
        throw error(where, kCardsKey, "entries name a card by exactly one of \"cardId\" and \"certificateSerial\"");
    }
    return rule;
}

bool contains(const std::vector<std::string>& list, std::string_view value)
{
    return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

// ---- operations and PIN sources ---------------------------------------------

std::string_view operationName(Operation operation)
{
    switch (operation) {
    case Operation::Read: return "read";
    case Operation::Sign: return "sign";
    case Operation::Pin: return "pin";
    }
    return "read";
}

std::optional<Operation> operationFromName(std::string_view name)
{
    if (name == "read") return Operation::Read;
    if (name == "sign") return Operation::Sign;
    if (name == "pin") return Operation::Pin;
    return std::nullopt;
}

OperationSet::OperationSet(std::initializer_list<Operation> operations)
{
    for (Operation operation : operations) add(operation);
}

OperationSet OperationSet::all() { return {Operation::Read, Operation::Sign, Operation::Pin}; }

OperationSet OperationSet::intersect(OperationSet other) const noexcept
{
    OperationSet result;
    result.bits_ = bits_ & other.bits_;
    return result;
}

std::vector<Operation> OperationSet::list() const
{
    std::vector<Operation> out;
    for (Operation operation : {Operation::Read, Operation::Sign, Operation::Pin}) {
        if (contains(operation)) out.push_back(operation);
    }
    return out;
}

OperationSet defaultOriginOperations() { return {Operation::Read, Operation::Sign}; }

std::string_view pinSourceName(PinSource source)
{
    switch (source) {
    case PinSource::Request: return "request";
    case PinSource::Pinentry: return "pinentry";
    case PinSource::Pinpad: return "pinpad";
    }
    return "request";
}

std::optional<PinSource> pinSourceFromName(std::string_view name)
{
    if (name == "request") return PinSource::Request;
    if (name == "pinentry") return PinSource::Pinentry;
    if (name == "pinpad") return PinSource::Pinpad;
    return std::nullopt;
}

std::string normalizeSerial(std::string_view serial)
{
    std::string hex;
    for (char c : serial) {
        if (c == ':' || c == ' ' || c == '-') continue;
        const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (!((upper >= '0' && upper <= '9') || (upper >= 'A' && upper <= 'F'))) return {};
        hex += upper;
    }
    const std::size_t first = hex.find_first_not_of('0');
    if (first == std::string::npos) return hex.empty() ? std::string() : std::string("0");
    return hex.substr(first);
}

// ---- configuration ------------------------------------------------------------

OriginGrant parseOriginGrant(const nlohmann::json& entry, const std::string& where)
{
    OriginGrant grant;
    if (entry.is_string()) {
        grant.origin = origin(entry.get<std::string>(), where, kAllowedOriginsKey);
        return grant;
    }
    if (!entry.is_object()) throw error(where, kAllowedOriginsKey, "must hold origins (strings) or objects");
    bool named = false;
    for (const auto& [member, value] : entry.items()) {
        const std::string key = std::string(kAllowedOriginsKey) + "[]." + member;
        if (member == kOriginMember) {
            if (!value.is_string()) throw error(where, key, "must be an origin");
            grant.origin = origin(value.get<std::string>(), where, key);
            named = true;
        } else if (member == kOperationsMember) {
            grant.operations = operations(value, where, key);
        } else if (member == kCardsMember) {
            grant.cards = strings(value, where, key);
        } else if (member == kPinSourceMember) {
            const auto source = value.is_string() ? pinSourceFromName(value.get<std::string>()) : std::nullopt;
            if (!source) throw error(where, key, "must be \"request\", \"pinentry\" or \"pinpad\"");
            grant.pinSource = source;
        } else if (member == kAcknowledgeMember) {
            grant.acknowledgeLowTries = boolean(value, where, key);
        } else {
            throw error(where, key, "is not an allowed-origin member (origin, operations, cards, pinSource, acknowledgeLowTries)");
        }
    }
    if (!named) throw error(where, kAllowedOriginsKey, "objects need an \"origin\"");
    return grant;
}

bool applyConfigKey(PolicySettings& settings, std::string_view key, const nlohmann::json& value, const std::string& where)
{
    if (key == kAllowedOriginsKey) {
        if (!value.is_array()) throw error(where, key, "must be an array of origins");
        settings.allowedOrigins.clear();
        for (const auto& entry : value) {
            OriginGrant grant = parseOriginGrant(entry, where);
            const auto same = [&](const OriginGrant& other) { return other.origin == grant.origin; };
            if (std::any_of(settings.allowedOrigins.begin(), settings.allowedOrigins.end(), same)) {
                throw error(where, key, "names " + grant.origin + " twice");
            }
            settings.allowedOrigins.push_back(std::move(grant));
        }
    } else if (key == kInsecureLocalhostKey) {
        settings.allowInsecureLocalhostOrigins = boolean(value, where, key);
    } else if (key == kPinGuardThresholdKey) {
        settings.pinGuardThreshold = integerIn(value, 0, kMaxPinGuardThreshold, where, key);
    } else if (key == kPinRateLimitAttemptsKey) {
        settings.pinRateLimitAttempts = integerIn(value, 1, kMaxPinRateLimitAttempts, where, key);
    } else if (key == kPinRateLimitWindowKey) {
        settings.pinRateLimitWindow = std::chrono::seconds(integerIn(value, 1, kMaxRateLimitWindowSeconds, where, key));
    } else if (key == kPinentryProgramKey) {
        if (value.is_null()) {
            settings.pinentryProgram.reset();
        } else if (value.is_string() && std::filesystem::path(value.get<std::string>()).is_absolute()) {
            settings.pinentryProgram = std::filesystem::path(value.get<std::string>());
        } else {
            throw error(where, key, "must be an absolute path, or null for no PIN dialogs");
        }
    } else if (key == kPinentryTimeoutKey) {
        settings.pinentryTimeout =
            std::chrono::seconds(integerIn(value, kMinPinentryTimeoutSeconds, kMaxPinentryTimeoutSeconds, where, key));
    } else if (key == kPairingDialogKey) {
        settings.pairingDialog = boolean(value, where, key);
    } else if (key == kCardsKey) {
        if (!value.is_array()) throw error(where, key, "must be an array of card rules");
        settings.cards.clear();
        for (const auto& entry : value) settings.cards.push_back(parseCardRule(entry, where));
    } else if (key == kBlockedSerialsKey) {
        settings.blockedCertificateSerials.clear();
        for (const auto& text : strings(value, where, key)) {
            std::string serial = normalizeSerial(text);
            if (serial.empty()) throw error(where, key, "must hold certificate serial numbers in hex");
            settings.blockedCertificateSerials.push_back(std::move(serial));
        }
    } else {
        return false;
    }
    return true;
}

void validate(const PolicySettings& settings)
{
    const auto check = [&](const std::string& origin, std::string_view where) {
        if (!isTrustworthyOrigin(origin, settings.allowInsecureLocalhostOrigins)) {
            throw PolicyError(std::string(where) + ": " + origin + " cannot be allowed: " + untrustworthyOriginReason(origin));
        }
    };
    for (const auto& grant : settings.allowedOrigins) check(grant.origin, "allowed origin");
    for (const auto& rule : settings.cards) {
        if (rule.origins) {
            for (const auto& origin : *rule.origins) check(origin, "card rule");
        }
    }
}

// ---- decisions ------------------------------------------------------------------

Policy::Policy(PolicySettings settings, bool pinentryAvailable)
    : settings_(std::move(settings)), pinentryAvailable_(pinentryAvailable)
{
}

const OriginGrant* Policy::allowlisted(std::string_view origin) const
{
    for (const auto& grant : settings_.allowedOrigins) {
        if (grant.origin == origin) return &grant;
    }
    return nullptr;
}

bool Policy::isBlocked(const CardSummary& card) const
{
    for (const auto& certificate : card.certificates) {
        if (contains(settings_.blockedCertificateSerials, normalizeSerial(certificate.serialNumber))) return true;
    }
    return false;
}

const CardRule* Policy::ruleFor(const CardSummary& card) const
{
    for (const auto& rule : settings_.cards) {
        if (rule.cardId && *rule.cardId == card.id) return &rule;
        if (rule.certificateSerial) {
            for (const auto& certificate : card.certificates) {
                if (normalizeSerial(certificate.serialNumber) == *rule.certificateSerial) return &rule;
            }
        }
    }
    return nullptr;
}

CardVerdict Policy::verdict(const Principal& principal, const OriginGrant* grant, const CardSummary& card) const
{
    CardVerdict verdict;
    const CardRule* rule = ruleFor(card);
    const OperationSet allowed = rule && rule->operations ? *rule->operations : OperationSet::all();
    if (principal.isLocal()) {
        verdict.operations = allowed;
    } else if (!grant || grant->origin != principal.origin) {
        verdict.visible = false;
    } else {
        const bool cardListed = !grant->cards || contains(*grant->cards, card.id);
        const bool originListed = !rule || !rule->origins || contains(*rule->origins, principal.origin);
        if (cardListed && originListed) verdict.operations = allowed.intersect(grant->operations);
        verdict.visible = verdict.operations.contains(Operation::Read);
    }
    if (isBlocked(card)) {
        // Still listed to whoever may see it (so the user sees why it does
        // nothing), usable by nobody.
        verdict.blocked = true;
        verdict.operations = OperationSet();
    }
    return verdict;
}

void Policy::require(const Principal& principal, const OriginGrant* grant, const CardSummary& card, Operation operation) const
{
    const CardVerdict decided = verdict(principal, grant, card);
    // A card this origin may not see is not described to it, blocked or not.
    if (decided.blocked && (principal.isLocal() || decided.visible)) {
        throw Error(ErrorCode::CardBlockedByPolicy,
                    "this card's certificate is listed as lost or suspended in inkand's configuration; it is not used");
    }
    if (!decided.operations.contains(operation)) {
        const std::string who = principal.isLocal() ? std::string("this card's rule") : principal.origin;
        throw Error(ErrorCode::OperationForbidden,
                    who + " may not " + std::string(operationName(operation)) + " with this card");
    }
}

PinSource Policy::pinSource(const Principal& principal, const OriginGrant* grant, bool paired) const
{
    if (principal.isLocal()) return PinSource::Request;
    if (grant && grant->pinSource) return *grant->pinSource;
    // A paired origin is one the user met only in passing: keep PINs out of
    // its pages when a dialog can ask instead.
    if (paired && pinentryAvailable_) return PinSource::Pinentry;
    return PinSource::Request;
}

bool Policy::mayAcknowledgeLowTries(const Principal& principal, const OriginGrant* grant) const
{
    if (principal.isLocalClient()) return true;
    if (principal.kind == Principal::Kind::Console) return false;
    return grant && grant->origin == principal.origin && grant->acknowledgeLowTries;
}

}  // namespace inkan::security
