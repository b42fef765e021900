#include "daemon/security/pairing_store.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "daemon/error.hpp"
#include "daemon/hex.hpp"
#include "daemon/security/origin.hpp"
#include "daemon/platform/filesystem.hpp"

namespace inkan::security {

namespace {

constexpr std::size_t kIdBytes = 16;  // 128 bits: not guessable by a page polling for other origins' pairings
constexpr std::size_t kCodeDigits = 6;
constexpr std::uint32_t kCodeRange = 1'000'000;
// The largest multiple of kCodeRange below 2^32: random words at or above it
// are drawn again, so every code is equally likely (no modulo bias).
constexpr std::uint32_t kCodeRejectionLimit = 4'294'000'000u;

constexpr platform::FileAccess kPairingsFileAccess = platform::FileAccess::OwnerOnly;
constexpr int kFileVersion = 1;

// Members of <state>/pairings.json.
constexpr std::string_view kVersionMember = "version";
constexpr std::string_view kOriginsMember = "origins";
constexpr std::string_view kOriginMember = "origin";
constexpr std::string_view kOperationsMember = "operations";
constexpr std::string_view kCardsMember = "cards";
constexpr std::string_view kApprovedAtMember = "approvedAt";

void randomBytes(unsigned char* out, std::size_t length)
{
    if (RAND_bytes(out, static_cast<int>(length)) != 1) throw Error(ErrorCode::Internal, "the random generator failed");
}

std::string newId()
{
    std::array<unsigned char, kIdBytes> random{};
    randomBytes(random.data(), random.size());
    return hexEncode(random);
}

std::string newCode()
{
    std::uint32_t value = 0;
    do {
        std::array<unsigned char, sizeof value> random{};
        randomBytes(random.data(), random.size());
        value = (std::uint32_t{random[0]} << 24) | (std::uint32_t{random[1]} << 16) | (std::uint32_t{random[2]} << 8) | random[3];
    } while (value >= kCodeRejectionLimit);
    std::string code = std::to_string(value % kCodeRange);
    return std::string(kCodeDigits - code.size(), '0') + code;
}

/// The digits of a code as typed ("123 456", "123-456" and "123456" are the same code).
std::string digitsOf(std::string_view typed)
{
    std::string digits;
    for (char c : typed) {
        if (c >= '0' && c <= '9') digits += c;
        else if (c != ' ' && c != '-') return {};
    }
    return digits;
}

int secondsUntil(Pairing::Clock::time_point from, Pairing::Clock::time_point to)
{
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(to - from).count();
    return static_cast<int>(std::max<long long>(1, seconds));
}

std::optional<Pairing::Clock::time_point> parseTime(const std::string& text)
{
    std::tm parts{};
    const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return Pairing::Clock::from_time_t(::timegm(&parts));
}

}  // namespace

std::string_view pairingStatusName(Pairing::Status status)
{
    switch (status) {
    case Pairing::Status::Pending: return "pending";
    case Pairing::Status::Approved: return "approved";
    case Pairing::Status::Denied: return "denied";
    case Pairing::Status::Expired: return "expired";
    }
    return "expired";
}

std::string displayCode(std::string_view code)
{
    if (code.size() != kCodeDigits) return std::string(code);
    return std::string(code.substr(0, 3)) + " " + std::string(code.substr(3));
}

std::string formatTime(Pairing::Clock::time_point time)
{
    const std::time_t seconds = Pairing::Clock::to_time_t(time);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text.data();
}

PairingStore::PairingStore(PairingStoreOptions options) : options_(std::move(options))
{
    if (!options_.now) options_.now = Pairing::Clock::now;
    load();
}

void PairingStore::onRequested(std::function<void(const Pairing&)> callback)
{
    const std::lock_guard lock(mutex_);
    onRequested_ = std::move(callback);
}

void PairingStore::expire(Pairing::Clock::time_point now)
{
    for (auto it = pairings_.begin(); it != pairings_.end();) {
        Pairing& pairing = it->second;
        if (pairing.status == Pairing::Status::Pending && now >= pairing.expiresAt) pairing.status = Pairing::Status::Expired;
        if (pairing.status != Pairing::Status::Pending && now >= pairing.expiresAt + options_.settledLifetime) {
            wrongCodes_.erase(it->first);
            it = pairings_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = deniedUntil_.begin(); it != deniedUntil_.end();) {
        it = now >= it->second ? deniedUntil_.erase(it) : std::next(it);
    }
}

Pairing PairingStore::request(const std::string& origin)
{
    Pairing created;
    std::function<void(const Pairing&)> notify;
    {
        const std::lock_guard lock(mutex_);
        const auto now = options_.now();
        expire(now);

        if (const auto denied = deniedUntil_.find(origin); denied != deniedUntil_.end()) {
            throw Error(ErrorCode::PairingRateLimited, "this origin's last pairing was denied; it may ask again later")
                .withRetryAfter(secondsUntil(now, denied->second));
        }
        int pendingForOrigin = 0;
        int pendingInAll = 0;
        std::optional<Pairing::Clock::time_point> firstExpiryForOrigin;
        std::optional<Pairing::Clock::time_point> firstExpiry;
        for (const auto& [id, pairing] : pairings_) {
            if (pairing.status != Pairing::Status::Pending) continue;
            ++pendingInAll;
            firstExpiry = std::min(firstExpiry.value_or(pairing.expiresAt), pairing.expiresAt);
            if (pairing.origin == origin) {
                ++pendingForOrigin;
                firstExpiryForOrigin = std::min(firstExpiryForOrigin.value_or(pairing.expiresAt), pairing.expiresAt);
            }
        }
        if (pendingForOrigin >= options_.maxPendingPerOrigin) {
            throw Error(ErrorCode::PairingRateLimited, "this origin already has pairing requests waiting for the user")
                .withRetryAfter(secondsUntil(now, *firstExpiryForOrigin));
        }
        if (pendingInAll >= options_.maxPending) {
            throw Error(ErrorCode::PairingRateLimited, "too many pairing requests are waiting for the user")
                .withRetryAfter(secondsUntil(now, *firstExpiry));
        }

        created.id = newId();
        created.origin = origin;
        created.code = newCode();
        created.createdAt = now;
        created.expiresAt = now + options_.pendingLifetime;
        pairings_.emplace(created.id, created);
        notify = onRequested_;
    }
    if (notify) notify(created);
    return created;
}

std::optional<Pairing> PairingStore::find(std::string_view id)
{
    const std::lock_guard lock(mutex_);
    expire(options_.now());
    const auto it = pairings_.find(id);
    if (it == pairings_.end()) return std::nullopt;
    return it->second;
}

Pairing& PairingStore::pendingById(std::string_view id)
{
    expire(options_.now());
    const auto it = pairings_.find(id);
    if (it == pairings_.end()) throw Error(ErrorCode::NotFound, "no pairing with this id (it may have expired long ago)");
    if (it->second.status != Pairing::Status::Pending) {
        throw Error(ErrorCode::PairingNotPending,
                    "this pairing is " + std::string(pairingStatusName(it->second.status)) + ", not pending");
    }
    return it->second;
}

Pairing PairingStore::settle(Pairing& pairing, OriginGrant grant)
{
    pairing.status = Pairing::Status::Approved;
    grant.origin = pairing.origin;
    PairedOrigin& entry = paired_[pairing.origin];
    entry.grant = std::move(grant);
    entry.approvedAt = options_.now();
    persist();
    return pairing;
}

Pairing PairingStore::approve(std::string_view id, std::string_view code, OperationSet operations,
                              std::optional<std::vector<std::string>> cards)
{
    const std::lock_guard lock(mutex_);
    Pairing& pairing = pendingById(id);
    const std::string typed = digitsOf(code);
    const bool matches = typed.size() == pairing.code.size() &&
                         CRYPTO_memcmp(typed.data(), pairing.code.data(), typed.size()) == 0;
    if (!matches) {
        const int wrong = ++wrongCodes_[pairing.id];
        const int left = std::max(0, options_.maxCodeAttempts - wrong);
        if (left == 0) {
            pairing.status = Pairing::Status::Denied;
            deniedUntil_[pairing.origin] = options_.now() + options_.deniedCooldown;
            throw Error(ErrorCode::PairingCodeIncorrect, "wrong pairing code; the pairing is now denied").withTriesLeft(0);
        }
        throw Error(ErrorCode::PairingCodeIncorrect, "wrong pairing code: type the code the page shows").withTriesLeft(left);
    }
    if (operations.empty()) throw Error(ErrorCode::BadRequest, "an approval must allow at least one operation");
    OriginGrant grant;
    grant.operations = operations;
    grant.cards = std::move(cards);
    return settle(pairing, std::move(grant));
}

Pairing PairingStore::approveConfirmed(std::string_view id)
{
    const std::lock_guard lock(mutex_);
    Pairing& pairing = pendingById(id);
    return settle(pairing, OriginGrant{});
}

Pairing PairingStore::deny(std::string_view id)
{
    const std::lock_guard lock(mutex_);
    Pairing& pairing = pendingById(id);
    pairing.status = Pairing::Status::Denied;
    deniedUntil_[pairing.origin] = options_.now() + options_.deniedCooldown;
    return pairing;
}

std::vector<Pairing> PairingStore::pending()
{
    const std::lock_guard lock(mutex_);
    expire(options_.now());
    std::vector<Pairing> out;
    for (const auto& [id, pairing] : pairings_) {
        if (pairing.status == Pairing::Status::Pending) out.push_back(pairing);
    }
    std::sort(out.begin(), out.end(), [](const Pairing& a, const Pairing& b) { return a.createdAt < b.createdAt; });
    return out;
}

std::vector<PairedOrigin> PairingStore::paired() const
{
    const std::lock_guard lock(mutex_);
    std::vector<PairedOrigin> out;
    for (const auto& [origin, entry] : paired_) out.push_back(entry);
    return out;
}

std::optional<OriginGrant> PairingStore::grantFor(std::string_view origin) const
{
    const std::lock_guard lock(mutex_);
    const auto it = paired_.find(origin);
    if (it == paired_.end()) return std::nullopt;
    return it->second.grant;
}

bool PairingStore::isPaired(std::string_view origin) const
{
    const std::lock_guard lock(mutex_);
    return paired_.find(origin) != paired_.end();
}

bool PairingStore::revoke(std::string_view origin)
{
    const std::lock_guard lock(mutex_);
    for (auto& [id, pairing] : pairings_) {
        if (pairing.origin == origin && pairing.status == Pairing::Status::Pending) pairing.status = Pairing::Status::Denied;
    }
    const auto it = paired_.find(origin);
    if (it == paired_.end()) return false;
    paired_.erase(it);
    persist();
    return true;
}

void PairingStore::persist() const
{
    if (options_.file.empty()) return;
    nlohmann::ordered_json origins = nlohmann::ordered_json::array();
    for (const auto& [origin, entry] : paired_) {
        nlohmann::ordered_json operations = nlohmann::ordered_json::array();
        for (Operation operation : entry.grant.operations.list()) operations.push_back(operationName(operation));
        nlohmann::ordered_json item{{kOriginMember, origin}, {kOperationsMember, std::move(operations)}};
        if (entry.grant.cards) item[kCardsMember] = *entry.grant.cards;
        item[kApprovedAtMember] = formatTime(entry.approvedAt);
        origins.push_back(std::move(item));
    }
    const nlohmann::ordered_json document{{kVersionMember, kFileVersion}, {kOriginsMember, std::move(origins)}};
    try {
        platform::writeFileAtomically(options_.file, document.dump(2) + "\n", kPairingsFileAccess);
    } catch (const platform::FileError& e) {
        // The pairing holds for this run; the user learns it will not survive a restart.
        throw Error(ErrorCode::Internal, std::string("cannot save the pairings: ") + e.what());
    }
}

void PairingStore::load()
{
    if (options_.file.empty()) return;
    const auto warn = [&](const std::string& message) {
        if (options_.warn) options_.warn(options_.file.string() + ": " + message);
    };
    std::optional<std::string> content;
    try {
        content = platform::readFile(options_.file);
    } catch (const platform::FileError& e) {
        warn(std::string("not read, no origin is paired: ") + e.what());
        return;
    }
    if (!content) return;
    const auto document = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object() || !document.contains(kOriginsMember) ||
        !document[kOriginsMember].is_array()) {
        warn("not a pairings file, no origin is paired");
        return;
    }
    for (const auto& item : document[kOriginsMember]) {
        // Each entry is checked on its own: one damaged entry costs that origin only.
        try {
            if (!item.is_object() || !item.contains(kOriginMember) || !item[kOriginMember].is_string()) throw PolicyError("no origin");
            const std::string origin = item[kOriginMember].get<std::string>();
            if (!isSerializedOrigin(origin)) throw PolicyError("not a serialized origin");
            PairedOrigin entry;
            entry.grant.origin = origin;
            entry.grant.operations = OperationSet();
            if (item.contains(kOperationsMember) && item[kOperationsMember].is_array()) {
                for (const auto& name : item[kOperationsMember]) {
                    const auto operation = name.is_string() ? operationFromName(name.get<std::string>()) : std::nullopt;
                    if (!operation) throw PolicyError("unknown operation");
                    entry.grant.operations.add(*operation);
                }
            }
            if (entry.grant.operations.empty()) throw PolicyError("no operations");
            if (item.contains(kCardsMember)) {
                if (!item[kCardsMember].is_array()) throw PolicyError("cards is not a list");
                std::vector<std::string> cards;
                for (const auto& card : item[kCardsMember]) {
                    if (!card.is_string()) throw PolicyError("cards holds a non-string");
                    cards.push_back(card.get<std::string>());
                }
                entry.grant.cards = std::move(cards);
            }
            const auto approvedAt = item.contains(kApprovedAtMember) && item[kApprovedAtMember].is_string()
                                        ? parseTime(item[kApprovedAtMember].get<std::string>())
                                        : std::nullopt;
            entry.approvedAt = approvedAt.value_or(Pairing::Clock::time_point{});
            paired_[origin] = std::move(entry);
        } catch (const PolicyError& e) {
            warn(std::string("an entry was skipped (") + e.what() + ")");
        } catch (const nlohmann::json::exception&) {
            warn("an entry was skipped (malformed)");
        }
    }
}

}  // namespace inkan::security
