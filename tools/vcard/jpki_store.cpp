// inkan-vcard — the persisted state of the virtual JPKI card.
#include "tools/vcard/jpki_store.hpp"

#include <chrono>

#include "tools/vcard/demo_credentials.hpp"

namespace inkan::vcard::jpki {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPinStateFile = "jpki-card.json";
// jpki-card.json layout version; bump on incompatible changes.
constexpr int kPinStateFormat = 1;

struct PairFiles {
    const char* key;
    const char* certificate;
    const char* caCertificate;
    const char* caKey;
};
constexpr PairFiles kAuthFiles{"jpki-auth-key.pem", "jpki-auth-cert.pem", "jpki-auth-ca-cert.pem",
                               "jpki-auth-ca-key.pem"};
constexpr PairFiles kSignFiles{"jpki-sign-key.pem", "jpki-sign-cert.pem", "jpki-sign-ca-cert.pem",
                               "jpki-sign-ca-key.pem"};

}  // namespace

JpkiStore JpkiStore::open(const fs::path& stateDir)
{
    JpkiStore store;
    store.stateDir_ = stateDir;
    ensurePrivateDirectory(stateDir);
    store.loadCredentials();
    store.loadOrCreatePins();
    return store;
}

void JpkiStore::loadCredentials()
{
    // The signing certificate is written last: without it, creation never
    // completed and starts over (overwriting any partial files).
    if (!fs::exists(stateDir_ / kSignFiles.certificate)) {
        const auto demo = issueJpkiDemoCredentials(std::chrono::system_clock::now());
        writePrivateKey(stateDir_ / kAuthFiles.caKey, demo.authCaKey.get());
        writeCertificate(stateDir_ / kAuthFiles.caCertificate, demo.authCaCertificate.get());
        writePrivateKey(stateDir_ / kAuthFiles.key, demo.authKey.get());
        writeCertificate(stateDir_ / kAuthFiles.certificate, demo.authCertificate.get());
        writePrivateKey(stateDir_ / kSignFiles.caKey, demo.signCaKey.get());
        writeCertificate(stateDir_ / kSignFiles.caCertificate, demo.signCaCertificate.get());
        writePrivateKey(stateDir_ / kSignFiles.key, demo.signKey.get());
        writeCertificate(stateDir_ / kSignFiles.certificate, demo.signCertificate.get());
    }
    const auto load = [&](Entry& entry, const PairFiles& files) {
        const fs::path keyPath = stateDir_ / files.key;
        entry.key = loadPrivateKey(keyPath);
        entry.certificate = loadCertificateDer(stateDir_ / files.certificate);
        entry.caCertificate = loadCertificateDer(stateDir_ / files.caCertificate);
        requireRsa2048(entry.key.get(), keyPath.string());
        requireMatchingPair(entry.key.get(), entry.certificate, keyPath.string());
    };
    load(auth_, kAuthFiles);
    load(sign_, kSignFiles);
}

void JpkiStore::loadOrCreatePins()
{
    const fs::path file = stateDir_ / kPinStateFile;
    if (!fs::exists(file)) {
        auth_.pin.maxTries = kAuthPinMaxTries;
        auth_.pin.assign(kDemoAuthPin);
        sign_.pin.maxTries = kSignPinMaxTries;
        sign_.pin.assign(kDemoSignPin);
        savePins();
        return;
    }
    // Never fall back to factory PINs on a damaged file: that would unblock a blocked card.
    const nlohmann::json state = readJsonFile(file);
    if (!state.is_object() || state.value("format", 0) != kPinStateFormat)
        throw StoreError(file.string() + ": unknown format");
    auth_.pin = StoredPin::fromJson(state["pins"]["auth"], "jpki-card.json: pins.auth", kAuthPinMaxTries,
                                      kAuthPinMaxTries);
    sign_.pin = StoredPin::fromJson(state["pins"]["sign"], "jpki-card.json: pins.sign", kSignPinMaxTries,
                                      kSignPinMaxTries);
}

void JpkiStore::savePins() const
{
    writeJsonFile(stateDir_ / kPinStateFile,
                  nlohmann::json{{"format", kPinStateFormat},
                                 {"pins", {{"auth", auth_.pin.toJson()}, {"sign", sign_.pin.toJson()}}}});
}

Bytes JpkiStore::sign(KeyPair pair, ByteView digestInfo) const
{
    return signPkcs1v15(entry(pair).key.get(), digestInfo);
}

bool JpkiStore::checkPin(KeyPair pin, const Secret& candidate)
{
    StoredPin& r = entry(pin).pin;
    return r.spendTryAndCheck(candidate, [this] { savePins(); });
}

void JpkiStore::setPin(KeyPair pin, const Secret& value)
{
    entry(pin).pin.assign(value.view());
    savePins();
}

}  // namespace inkan::vcard::jpki
