// inkan-vcard — the persisted state of a virtual card.
#include "tools/vcard/card_store.hpp"

#include <chrono>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "tools/vcard/demo_credentials.hpp"

namespace inkan::vcard {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCardStateFile = "card.json";
constexpr const char* kSigningKeyFile = "signing-key.pem";
constexpr const char* kSigningCertFile = "signing-cert.pem";
constexpr const char* kCaCertFile = "ca-cert.pem";
constexpr const char* kCaKeyFile = "demo-ca-key.pem";

// card.json layout version; bump on incompatible changes.
constexpr int kCardStateFormat = 1;

// The demo card's factory values (the project's documented demo credentials).
constexpr std::string_view kDemoUserPin = "1234";
constexpr std::string_view kDemoUnblockCode = "12345678";

}  // namespace

std::optional<CardSerial> parseCardSerial(std::string_view hex)
{
    if (hex.size() != 2 * CardSerial{}.size() || hex.find(' ') != std::string_view::npos) return std::nullopt;
    const auto bytes = fromHex(hex);
    if (!bytes) return std::nullopt;
    CardSerial out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

CardStore CardStore::open(const StoreOptions& options)
{
    if (options.keyFile.has_value() != options.certFile.has_value())
        throw StoreError("--key and --cert go together");
    if (options.caCertFile && !options.certFile) throw StoreError("--ca-cert needs --key and --cert");

    CardStore store;
    store.stateDir_ = options.stateDir;
    ensurePrivateDirectory(store.stateDir_);

    // Credentials first: a refused --key/--cert must not leave a new card behind.
    store.loadCredentials(options);
    if (options.maxTries && (*options.maxTries < 1 || *options.maxTries > kMaxPinTriesLimit))
        throw StoreError("--max-tries must be 1 to " + std::to_string(kMaxPinTriesLimit));
    store.loadOrCreateCardState(options.maxTries);
    store.serial_ = options.serialOverride.value_or(store.storedSerial_);
    return store;
}

void CardStore::loadOrCreateCardState(std::optional<int> maxTries)
{
    const fs::path file = stateDir_ / kCardStateFile;
    if (!fs::exists(file)) {
        ossl::check(RAND_bytes(storedSerial_.data(), static_cast<int>(storedSerial_.size())), "RAND_bytes");
        userPin_.maxTries = unblockCode_.maxTries = maxTries.value_or(kMaxPinTries);
        assignPin(PinReference::User, Secret(kDemoUserPin));
        assignPin(PinReference::Unblock, Secret(kDemoUnblockCode));
        saveCardState();
        return;
    }

    // Never fall back to factory PINs on a damaged file: that would unblock a blocked card.
    const nlohmann::json state = readJsonFile(file);
    if (!state.is_object() || state.value("format", 0) != kCardStateFormat)
        throw StoreError(file.string() + ": unknown format");
    storedSerial_ = fixedHex<8>(state["serial"], "serial");
    userPin_ = StoredPin::fromJson(state["pins"]["user"], "card.json: pins.user", kMaxPinTries, kMaxPinTriesLimit);
    unblockCode_ = StoredPin::fromJson(state["pins"]["unblock"], "card.json: pins.unblock", kMaxPinTries,
                                        kMaxPinTriesLimit);
    // A card's maximum is part of how it was made; another one means another card.
    if (maxTries && *maxTries != userPin_.maxTries)
        throw StoreError(file.string() + ": this card was made with " + std::to_string(userPin_.maxTries) +
                         " tries, not " + std::to_string(*maxTries) + " (use a new --state)");
}

void CardStore::saveCardState() const
{
    const nlohmann::json state{
        {"format", kCardStateFormat},
        {"serial", toHex(storedSerial_)},
        {"pins", {{"user", userPin_.toJson()}, {"unblock", unblockCode_.toJson()}}},
    };
    writeJsonFile(stateDir_ / kCardStateFile, state);
}

void CardStore::loadCredentials(const StoreOptions& options)
{
    if (options.keyFile) {
        signingKey_ = loadPrivateKey(*options.keyFile);
        signingCertDer_ = loadCertificateDer(*options.certFile);
        if (options.caCertFile) caCertDer_ = loadCertificateDer(*options.caCertFile);
        requireRsa2048(signingKey_.get(), options.keyFile->string());
        requireMatchingPair(signingKey_.get(), signingCertDer_, options.keyFile->string());
        return;
    }

    const fs::path keyPath = stateDir_ / kSigningKeyFile;
    const fs::path certPath = stateDir_ / kSigningCertFile;
    const fs::path caPath = stateDir_ / kCaCertFile;
    // The signing certificate is written last: without it, creation never
    // completed and starts over (overwriting any partial files).
    if (!fs::exists(certPath)) {
        const auto demo = issueDemoCredentials(std::chrono::system_clock::now());
        writePrivateKey(stateDir_ / kCaKeyFile, demo.caKey.get());
        writeCertificate(caPath, demo.caCertificate.get());
        writePrivateKey(keyPath, demo.signingKey.get());
        writeCertificate(certPath, demo.signingCertificate.get());
    }
    if (!fs::exists(keyPath)) throw StoreError(keyPath.string() + " is missing (its certificate is there)");
    signingKey_ = loadPrivateKey(keyPath);
    signingCertDer_ = loadCertificateDer(certPath);
    if (fs::exists(caPath)) caCertDer_ = loadCertificateDer(caPath);
    requireRsa2048(signingKey_.get(), keyPath.string());
    requireMatchingPair(signingKey_.get(), signingCertDer_, keyPath.string());
}

Bytes CardStore::sign(ByteView digestInfo) const
{
    return signPkcs1v15(signingKey_.get(), digestInfo);
}

bool CardStore::checkPin(PinReference ref, const Secret& candidate)
{
    StoredPin& r = record(ref);
    return r.spendTryAndCheck(candidate, [this] { saveCardState(); });
}

void CardStore::assignPin(PinReference ref, const Secret& value)
{
    StoredPin& r = record(ref);
    r.assign(value.view());
}

void CardStore::setPin(PinReference ref, const Secret& value)
{
    assignPin(ref, value);
    saveCardState();
}

}  // namespace inkan::vcard
