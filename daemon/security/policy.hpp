// inkan — who may do what with which card (docs/security.md "Policy").
//
// Three sources, all decided here and nowhere else:
//   * allowlisted origins from the config ("allowedOrigins", --allow-origin),
//   * origins the user approved by pairing (pairing_store.hpp),
//   * per-card rules and blocked (lost / suspended, 休止) certificate serials.
// A caller is either the local client (proved the API token: may do
// everything) or a web origin (may do what its grant and the card's rule both
// allow). Nothing here knows HTTP or APDUs.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/service/card_agent.hpp"

namespace inkan::security {

/// What a caller wants to do with a card.
enum class Operation {
    Read,  // status, cards, certificates, PIN status
    Sign,  // signatures (with or without a PIN)
    Pin,   // PIN verification, change, unblock
};

/// "read", "sign", "pin".
std::string_view operationName(Operation operation);
std::optional<Operation> operationFromName(std::string_view name);

/// A set of operations (a bit set over Operation).
class OperationSet {
public:
    OperationSet() = default;
    OperationSet(std::initializer_list<Operation> operations);
    static OperationSet all();

    bool contains(Operation operation) const noexcept { return (bits_ & bit(operation)) != 0; }
    void add(Operation operation) noexcept { bits_ |= bit(operation); }
    bool empty() const noexcept { return bits_ == 0; }
    OperationSet intersect(OperationSet other) const noexcept;
    /// In the order read, sign, pin.
    std::vector<Operation> list() const;
    bool operator==(const OperationSet&) const = default;

private:
    static unsigned bit(Operation operation) noexcept { return 1u << static_cast<unsigned>(operation); }
    unsigned bits_ = 0;
};

/// What an origin gets when the config or the approval does not say: read and sign.
OperationSet defaultOriginOperations();

/// Where the PIN of a web origin's request comes from.
enum class PinSource {
    Request,   // in the request body: the page sees it
    Pinentry,  // inkand asks the user in a pinentry dialog: the page never sees it
    Pinpad,    // the reader's own keypad (PC/SC part 10): inkand never sees it either
};

std::string_view pinSourceName(PinSource source);
std::optional<PinSource> pinSourceFromName(std::string_view name);

/// What one web origin may do.
struct OriginGrant {
    std::string origin;  // serialized (origin.hpp)
    OperationSet operations = defaultOriginOperations();
    /// Card ids this origin may use; nullopt: every card.
    std::optional<std::vector<std::string>> cards;
    /// nullopt: the default for its kind (PolicySettings::defaultPinSource).
    std::optional<PinSource> pinSource;
    /// The origin may ask to spend one of the last few PIN tries ("acknowledgeLowTries").
    bool acknowledgeLowTries = false;
};

/// A per-card rule: the card (by id or by any certificate's serial number) is
/// limited to these origins and operations.
struct CardRule {
    std::optional<std::string> cardId;
    std::optional<std::string> certificateSerial;  // normalized (normalizeSerial)
    /// Web origins that may use the card; nullopt: any allowed origin. The local client is not limited by it.
    std::optional<std::vector<std::string>> origins;
    /// Operations anyone, the local client included, may do with the card; nullopt: all.
    std::optional<OperationSet> operations;
};

inline constexpr int kDefaultPinRateLimitAttempts = 3;
inline constexpr std::chrono::seconds kDefaultPinRateLimitWindow{600};
inline constexpr std::chrono::seconds kDefaultPinentryTimeout{60};
inline constexpr std::string_view kDefaultPinentryProgram = "/usr/bin/pinentry";

/// The security part of inkand's configuration (config keys in docs/security.md).
struct PolicySettings {
    std::vector<OriginGrant> allowedOrigins;
    /// Admit http://localhost[:PORT] and http://127.0.0.1[:PORT] into the allowlist (development).
    bool allowInsecureLocalhostOrigins = false;
    /// Refuse to spend a PIN try when this many or fewer are left (PIN_GUARD);
    /// none: relative to each PIN's maximum (pin_guard.hpp defaultGuardThreshold).
    std::optional<int> pinGuardThreshold;
    /// Wrong PINs one origin may send per window before PIN_RATE_LIMITED.
    int pinRateLimitAttempts = kDefaultPinRateLimitAttempts;
    std::chrono::seconds pinRateLimitWindow = kDefaultPinRateLimitWindow;
    /// The pinentry program; nullopt: no PIN dialogs (config "pinentryProgram": null).
    std::optional<std::filesystem::path> pinentryProgram{std::string(kDefaultPinentryProgram)};
    std::chrono::seconds pinentryTimeout = kDefaultPinentryTimeout;
    /// Show a pinentry confirmation for new pairings (besides `inkan pair approve`).
    bool pairingDialog = true;
    std::vector<CardRule> cards;
    /// Certificate serials (normalized) of lost or suspended cards: refused for everything.
    std::vector<std::string> blockedCertificateSerials;
};

/// A config value that does not fit; the message names the key and is for the user.
class PolicyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Apply one key of the config file if it is a security key; false when the
/// key is not one of them. `where` prefixes messages ("config file X").
/// Throws PolicyError.
bool applyConfigKey(PolicySettings& settings, std::string_view key, const nlohmann::json& value, const std::string& where);

/// One "allowedOrigins" entry: a string, or an object {"origin", "operations",
/// "cards", "pinSource", "acknowledgeLowTries"}. Throws PolicyError.
OriginGrant parseOriginGrant(const nlohmann::json& entry, const std::string& where);

/// Checks that apply to the whole configuration once every source is read:
/// every allowlisted origin and every card rule's origin must be trustworthy
/// (origin.hpp). Throws PolicyError.
void validate(const PolicySettings& settings);

/// "0a:1B 2c" -> "A1B2C": upper-case hex, separators and leading zeros dropped,
/// so a serial copied from any tool matches the one inkand reads.
std::string normalizeSerial(std::string_view serial);

/// Who is asking.
struct Principal {
    enum class Kind {
        LocalClient,  // proved possession of the local API token
        Console,      // inkand's own page (its origin is https://127.0.0.1:PORT and the like)
        WebOrigin,    // a page of another origin: may do what its grant allows
    };
    Kind kind = Kind::LocalClient;
    std::string origin;  // for Console and WebOrigin
    /// For Console: the public id of its login session (console_sessions.hpp),
    /// so two consoles, or one before and after a new login, are told apart.
    std::string session;

    static Principal localClient() { return {}; }
    static Principal console(std::string origin, std::string session = {})
    {
        return {Kind::Console, std::move(origin), std::move(session)};
    }
    static Principal webOrigin(std::string origin) { return {Kind::WebOrigin, std::move(origin), {}}; }
    bool isLocalClient() const noexcept { return kind == Kind::LocalClient; }
    /// The local client and the console: every operation on every card the
    /// card rules allow, without a grant. The console is still a web page: its
    /// PINs are rate-limited and it may not acknowledge the last tries.
    bool isLocal() const noexcept { return kind != Kind::WebOrigin; }
};

/// What the policy decides about one card for one principal.
struct CardVerdict {
    bool blocked = false;       // a blocked certificate serial: nobody may use the card
    bool visible = true;        // listed to this principal at all
    OperationSet operations;    // allowed operations (empty when blocked)
};

/// The decisions, given the configuration. Pairings are passed in per call
/// (they change while inkand runs); the settings do not.
class Policy {
public:
    explicit Policy(PolicySettings settings, bool pinentryAvailable = false);

    const PolicySettings& settings() const noexcept { return settings_; }

    /// The allowlisted grant of `origin`, if any.
    const OriginGrant* allowlisted(std::string_view origin) const;

    /// What `principal` may do with `card`. `grant` is the principal's
    /// grant (allowlisted or paired), ignored for the local client; a web
    /// origin without one may do nothing.
    CardVerdict verdict(const Principal& principal, const OriginGrant* grant, const CardSummary& card) const;

    /// Throws CardBlockedByPolicy or OperationForbidden unless `principal`
    /// may do `operation` with `card`.
    void require(const Principal& principal, const OriginGrant* grant, const CardSummary& card, Operation operation) const;

    /// True when a certificate of the card is listed as lost/suspended.
    bool isBlocked(const CardSummary& card) const;

    /// Where the PIN comes from: always the request for the local client and the console;
    /// for an origin its grant's source, else pinentry when a pinentry
    /// program exists and the grant came from pairing, else the request.
    PinSource pinSource(const Principal& principal, const OriginGrant* grant, bool paired) const;

    /// Whether the principal may ask for one of the last PIN tries.
    bool mayAcknowledgeLowTries(const Principal& principal, const OriginGrant* grant) const;

    bool pinentryAvailable() const noexcept { return pinentryAvailable_; }

private:
    const CardRule* ruleFor(const CardSummary& card) const;

    PolicySettings settings_;
    bool pinentryAvailable_;
};

}  // namespace inkan::security
