// inkan-vcard — the persisted state of a virtual card.
#include "tools/vcard/card_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "daemon/file_descriptor.hpp"
#include "tools/vcard/demo_credentials.hpp"

namespace inkan::vcard {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCardStateFile = "card.json";
constexpr const char* kSigningKeyFile = "signing-key.pem";
constexpr const char* kSigningCertFile = "signing-cert.pem";
constexpr const char* kCaCertFile = "ca-cert.pem";
constexpr const char* kCaKeyFile = "demo-ca-key.pem";
constexpr const char* kLockFile = "lock";

// card.json layout version; bump on incompatible changes.
constexpr int kCardStateFormat = 1;

// The demo card's factory values (the project's documented demo credentials).
constexpr std::string_view kDemoUserPin = "1234";
constexpr std::string_view kDemoUnblockCode = "12345678";

constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kPublicFile = kPrivateFile | fs::perms::group_read | fs::perms::others_read;
constexpr fs::perms kPrivateDir = fs::perms::owner_all;

std::string errnoText(const std::string& what)
{
    return what + ": " + std::strerror(errno);
}

Bytes readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StoreError("cannot read " + path.string());
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Wipes a buffer that held key material before it is released.
struct WipeOnExit {
    Bytes& bytes;
    ~WipeOnExit()
    {
        if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
    }
};

ossl::BioPtr memoryBio(ByteView bytes)
{
    return ossl::own<ossl::BioPtr>(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), "BIO_new_mem_buf");
}

Bytes bioContents(BIO* bio)
{
    const char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return Bytes(reinterpret_cast<const std::uint8_t*>(data), reinterpret_cast<const std::uint8_t*>(data) + size);
}

// Refuse to prompt on a terminal for an encrypted key: the card runs unattended.
int refusePassphrase(char*, int, int, void*)
{
    return -1;
}

ossl::PkeyPtr loadPrivateKey(const fs::path& path)
{
    Bytes pem = readFile(path);
    const WipeOnExit wipe{pem};
    auto bio = memoryBio(pem);
    ossl::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr));
    ERR_clear_error();
    if (!key) throw StoreError(path.string() + ": not an unencrypted PEM private key");
    return key;
}

/// A certificate file in PEM or DER; returns its DER.
Bytes loadCertificateDer(const fs::path& path)
{
    const Bytes contents = readFile(path);
    auto bio = memoryBio(contents);
    ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        const unsigned char* p = contents.data();
        cert.reset(d2i_X509(nullptr, &p, static_cast<long>(contents.size())));
    }
    ERR_clear_error();
    if (!cert) throw StoreError(path.string() + ": not a PEM or DER X.509 certificate");
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert.get(), &der);
    if (len <= 0) throw StoreError(path.string() + ": cannot re-encode certificate");
    Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
}

ossl::X509Ptr parseCertificate(const Bytes& der)
{
    const unsigned char* p = der.data();
    return ossl::X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

Bytes certificatePem(X509* cert)
{
    auto bio = ossl::own<ossl::BioPtr>(BIO_new(BIO_s_mem()), "BIO_new");
    ossl::check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
    return bioContents(bio.get());
}

void writePrivateKey(const fs::path& path, EVP_PKEY* key)
{
    auto bio = ossl::own<ossl::BioPtr>(BIO_new(BIO_s_mem()), "BIO_new");
    ossl::check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
                "PEM_write_bio_PrivateKey");
    Bytes pem = bioContents(bio.get());
    const WipeOnExit wipe{pem};
    writeFileAtomically(path, pem, kPrivateFile);
}

/// The card's signing key must be what the spec promises: RSA-2048 (PSO answers 61 00 = 256 bytes).
void requireRsa2048(EVP_PKEY* key, const std::string& where)
{
    if (EVP_PKEY_is_a(key, "RSA") != 1 || EVP_PKEY_get_bits(key) != kSigningKeyBits)
        throw StoreError(where + ": the signing key must be RSA-2048");
}

void requireMatchingPair(EVP_PKEY* key, const Bytes& certDer, const std::string& where)
{
    const auto cert = parseCertificate(certDer);
    if (!cert) throw StoreError(where + ": unreadable certificate");
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key) != 1) {
        ERR_clear_error();
        throw StoreError(where + ": the private key does not match the certificate");
    }
}

std::array<std::uint8_t, 32> pinDigest(ByteView salt, std::string_view value)
{
    std::array<std::uint8_t, 32> out{};
    auto ctx = ossl::own<ossl::MdCtxPtr>(EVP_MD_CTX_new(), "EVP_MD_CTX_new");
    ossl::check(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    ossl::check(EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()), "EVP_DigestUpdate");
    ossl::check(EVP_DigestUpdate(ctx.get(), value.data(), value.size()), "EVP_DigestUpdate");
    unsigned int len = 0;
    ossl::check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "EVP_DigestFinal_ex");
    return out;
}

template <std::size_t N>
void randomFill(std::array<std::uint8_t, N>& out)
{
    ossl::check(RAND_bytes(out.data(), static_cast<int>(N)), "RAND_bytes");
}

template <std::size_t N>
std::array<std::uint8_t, N> fixedHex(const nlohmann::json& value, const char* field)
{
    if (!value.is_string()) throw StoreError(std::string("card.json: ") + field + " missing");
    const auto bytes = fromHex(value.get<std::string>());
    if (!bytes || bytes->size() != N) throw StoreError(std::string("card.json: ") + field + " malformed");
    std::array<std::uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

/// Creates the directory (0700: it holds keys and PIN hashes) unless it exists.
void ensurePrivateDirectory(const fs::path& dir)
{
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec)) throw StoreError(dir.string() + " is not a directory");
        return;
    }
    fs::create_directories(dir, ec);
    if (ec) throw StoreError("cannot create state directory " + dir.string() + ": " + ec.message());
    fs::permissions(dir, kPrivateDir, ec);
    if (ec) throw StoreError("cannot restrict " + dir.string() + ": " + ec.message());
}

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

void writeFileAtomically(const fs::path& path, ByteView content, fs::perms mode)
{
    std::string tmpl = (path.parent_path() / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
    FileDescriptor fd(::mkstemp(tmpl.data()));
    if (fd.get() < 0) throw StoreError(errnoText("cannot create a temporary file next to " + path.string()));
    const auto cleanup = [&] { ::unlink(tmpl.c_str()); };
    // mkstemp creates 0600; widen only where asked (certificates), before any byte is written.
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
        cleanup();
        throw StoreError(errnoText("chmod " + tmpl));
    }
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            cleanup();
            throw StoreError(errnoText("write " + tmpl));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        cleanup();
        throw StoreError(errnoText("fsync " + tmpl));
    }
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        cleanup();
        throw StoreError(errnoText("rename to " + path.string()));
    }
    // Make the rename itself durable.
    FileDescriptor dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
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
        randomFill(storedSerial_);
        userPin_.maxTries = unblockCode_.maxTries = maxTries.value_or(kMaxPinTries);
        assignPin(PinReference::User, Secret(kDemoUserPin));
        assignPin(PinReference::Unblock, Secret(kDemoUnblockCode));
        saveCardState();
        return;
    }

    nlohmann::json state;
    try {
        const Bytes raw = readFile(file);
        state = nlohmann::json::parse(raw.begin(), raw.end());
    } catch (const nlohmann::json::exception& e) {
        // Never fall back to factory PINs on a damaged file: that would unblock a blocked card.
        throw StoreError(file.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!state.is_object() || state.value("format", 0) != kCardStateFormat)
        throw StoreError(file.string() + ": unknown format");
    storedSerial_ = fixedHex<8>(state["serial"], "serial");
    const auto loadPin = [&](const char* name, PinRecord& out) {
        const auto& pin = state["pins"][name];
        if (!pin.is_object()) throw StoreError(std::string("card.json: pins.") + name + " missing");
        out.salt = fixedHex<16>(pin["salt"], "salt");
        out.digest = fixedHex<32>(pin["sha256"], "sha256");
        // Cards made before the maximum was stored have the default one.
        const auto& max = pin.contains("maxTries") ? pin["maxTries"] : nlohmann::json(kMaxPinTries);
        if (!max.is_number_integer() || max.get<int>() < 1 || max.get<int>() > kMaxPinTriesLimit)
            throw StoreError(std::string("card.json: pins.") + name + ".maxTries malformed");
        out.maxTries = max.get<int>();
        const auto& tries = pin["triesLeft"];
        if (!tries.is_number_integer() || tries.get<int>() < 0 || tries.get<int>() > out.maxTries)
            throw StoreError(std::string("card.json: pins.") + name + ".triesLeft malformed");
        out.triesLeft = tries.get<int>();
        // A card's maximum is part of how it was made; another one means another card.
        if (maxTries && *maxTries != out.maxTries)
            throw StoreError(file.string() + ": this card was made with " + std::to_string(out.maxTries) +
                             " tries, not " + std::to_string(*maxTries) + " (use a new --state)");
    };
    loadPin("user", userPin_);
    loadPin("unblock", unblockCode_);
}

void CardStore::saveCardState() const
{
    const auto pinJson = [](const PinRecord& r) {
        return nlohmann::json{{"salt", toHex(r.salt)},
                              {"sha256", toHex(r.digest)},
                              {"triesLeft", r.triesLeft},
                              {"maxTries", r.maxTries}};
    };
    const nlohmann::json state{
        {"format", kCardStateFormat},
        {"serial", toHex(storedSerial_)},
        {"pins", {{"user", pinJson(userPin_)}, {"unblock", pinJson(unblockCode_)}}},
    };
    const std::string text = state.dump(2) + "\n";
    writeFileAtomically(stateDir_ / kCardStateFile,
                        ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), kPrivateFile);
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
        const Bytes caPem = certificatePem(demo.caCertificate.get());
        writeFileAtomically(caPath, caPem, kPublicFile);
        writePrivateKey(keyPath, demo.signingKey.get());
        const Bytes leafPem = certificatePem(demo.signingCertificate.get());
        writeFileAtomically(certPath, leafPem, kPublicFile);
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
    auto ctx = ossl::own<ossl::PkeyCtxPtr>(EVP_PKEY_CTX_new(signingKey_.get(), nullptr), "EVP_PKEY_CTX_new");
    ossl::check(EVP_PKEY_sign_init(ctx.get()), "EVP_PKEY_sign_init");
    // No signature digest set: OpenSSL then applies PKCS#1 v1.5 type-1 padding to
    // the bytes given, which is exactly "the card adds the PKCS#1 padding" (RFC 8017 §8.2.1).
    ossl::check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING), "EVP_PKEY_CTX_set_rsa_padding");
    std::size_t len = 0;
    ossl::check(EVP_PKEY_sign(ctx.get(), nullptr, &len, digestInfo.data(), digestInfo.size()), "EVP_PKEY_sign");
    Bytes signature(len);
    ossl::check(EVP_PKEY_sign(ctx.get(), signature.data(), &len, digestInfo.data(), digestInfo.size()),
                "EVP_PKEY_sign");
    signature.resize(len);
    return signature;
}

bool CardStore::checkPin(PinReference ref, const Secret& candidate)
{
    PinRecord& r = record(ref);
    if (r.triesLeft <= 0) throw StoreError("checkPin on a blocked reference");
    --r.triesLeft;
    saveCardState();
    const auto digest = pinDigest(r.salt, candidate.view());
    const bool match = CRYPTO_memcmp(digest.data(), r.digest.data(), digest.size()) == 0;
    if (match) {
        r.triesLeft = r.maxTries;
        saveCardState();
    }
    return match;
}

void CardStore::assignPin(PinReference ref, const Secret& value)
{
    PinRecord& r = record(ref);
    randomFill(r.salt);
    r.digest = pinDigest(r.salt, value.view());
    r.triesLeft = r.maxTries;
}

void CardStore::setPin(PinReference ref, const Secret& value)
{
    assignPin(ref, value);
    saveCardState();
}

StateDirLock::StateDirLock(const fs::path& stateDir)
{
    ensurePrivateDirectory(stateDir);
    fd_ = ::open((stateDir / kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw StoreError(errnoText("cannot open lock file in " + stateDir.string()));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        throw StoreError("another inkan-vcard is using " + stateDir.string());
    }
}

StateDirLock::~StateDirLock()
{
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace inkan::vcard
