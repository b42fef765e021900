#include "daemon/security/console_sessions.hpp"

#include <algorithm>
#include <array>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "daemon/error.hpp"
#include "daemon/hex.hpp"

namespace inkan::security {

namespace {

// 128 bits each (the issue's minimum): neither a code nor a session can be guessed.
constexpr std::size_t kSecretBytes = 16;
constexpr std::size_t kIdBytes = 16;

/// `bytes` random bytes as lower-case hex, drawn from the private generator
/// (RAND_priv_bytes, as for the API token) when `secret`.
std::string randomHex(std::size_t bytes, bool secret)
{
    std::array<unsigned char, 32> random{};
    const int drawn = secret ? RAND_priv_bytes(random.data(), static_cast<int>(bytes))
                             : RAND_bytes(random.data(), static_cast<int>(bytes));
    if (drawn != 1) throw Error(ErrorCode::Internal, "the random generator failed");
    std::string hex = hexEncode(std::span<const std::uint8_t>(random.data(), bytes));
    OPENSSL_cleanse(random.data(), random.size());
    return hex;
}

Secret randomSecret()
{
    std::string hex = randomHex(kSecretBytes, true);
    Secret secret(hex);
    OPENSSL_cleanse(hex.data(), hex.size());
    return secret;
}

/// Constant-time equality for equal lengths; the length itself is public.
bool sameSecret(const Secret& stored, std::string_view presented)
{
    return stored.size() == presented.size() &&
           CRYPTO_memcmp(stored.view().data(), presented.data(), presented.size()) == 0;
}

/// The index of the entry whose value is `presented`, looking at every entry
/// whatever matches, so the time taken says nothing about which one did.
template <typename Entries>
std::optional<std::size_t> findSecret(const Entries& entries, std::string_view presented)
{
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (sameSecret(entries[i].value, presented)) found = i;
    }
    return found;
}

}  // namespace

ConsoleSessions::ConsoleSessions(ConsoleSessionOptions options) : options_(std::move(options))
{
}

bool ConsoleSessions::expired(const Session& session, Clock::time_point now) const
{
    return now - session.lastUsed >= options_.idleTimeout || now - session.startedAt >= options_.absoluteLifetime;
}

void ConsoleSessions::expire(Clock::time_point now)
{
    std::erase_if(codes_, [&](const Code& code) { return now >= code.expiresAt; });
    std::erase_if(sessions_, [&](const Session& session) { return expired(session, now); });
}

LoginCode ConsoleSessions::issueCode()
{
    Secret value = randomSecret();
    LoginCode code{Secret(value.view()), options_.codeLifetime};
    const std::lock_guard lock(mutex_);
    const Clock::time_point now = options_.now();
    expire(now);
    if (codes_.size() >= options_.maxCodes) codes_.erase(codes_.begin());  // the oldest
    codes_.push_back(Code{std::move(value), now + options_.codeLifetime});
    return code;
}

std::optional<NewConsoleSession> ConsoleSessions::redeem(std::string_view code)
{
    // Drawn before the lock: the generator may take a while the first time.
    Secret value = randomSecret();
    std::string id = randomHex(kIdBytes, false);

    const std::lock_guard lock(mutex_);
    const Clock::time_point now = options_.now();
    expire(now);
    const auto found = findSecret(codes_, code);
    if (!found) return std::nullopt;
    codes_.erase(codes_.begin() + static_cast<std::ptrdiff_t>(*found));  // single use

    if (sessions_.size() >= options_.maxSessions) {
        const auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                             [](const Session& a, const Session& b) { return a.lastUsed < b.lastUsed; });
        sessions_.erase(oldest);
    }
    NewConsoleSession session{Secret(value.view()), id};
    sessions_.push_back(Session{std::move(value), std::move(id), now, now});
    return session;
}

std::optional<std::string> ConsoleSessions::identify(std::string_view value)
{
    const std::lock_guard lock(mutex_);
    const Clock::time_point now = options_.now();
    expire(now);
    const auto found = findSecret(sessions_, value);
    if (!found) return std::nullopt;
    Session& session = sessions_[*found];
    session.lastUsed = now;
    return session.id;
}

bool ConsoleSessions::isLive(std::string_view id)
{
    const std::lock_guard lock(mutex_);
    expire(options_.now());
    return std::any_of(sessions_.begin(), sessions_.end(), [&](const Session& session) { return session.id == id; });
}

bool ConsoleSessions::revoke(std::string_view id)
{
    const std::lock_guard lock(mutex_);
    return std::erase_if(sessions_, [&](const Session& session) { return session.id == id; }) > 0;
}

}  // namespace inkan::security
