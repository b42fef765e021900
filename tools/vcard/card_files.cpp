// inkan-vcard — state-directory files and key operations shared by the virtual cards.
#include "tools/vcard/card_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "daemon/file_descriptor.hpp"
#include "tools/vcard/demo_credentials.hpp"

namespace inkan::vcard {

namespace fs = std::filesystem;

namespace {

constexpr fs::perms kPrivateDir = fs::perms::owner_all;
constexpr const char* kLockFile = "lock";

std::string errnoText(const std::string& what)
{
    return what + ": " + std::strerror(errno);
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

}  // namespace

Bytes readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StoreError("cannot read " + path.string());
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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

nlohmann::json readJsonFile(const fs::path& path)
{
    const Bytes raw = readFile(path);
    try {
        return nlohmann::json::parse(raw.begin(), raw.end());
    } catch (const nlohmann::json::exception& e) {
        throw StoreError(path.string() + ": not valid JSON (" + e.what() + ")");
    }
}

void writeJsonFile(const fs::path& path, const nlohmann::json& value)
{
    const std::string text = value.dump(2) + "\n";
    writeFileAtomically(path, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), kPrivateFile);
}

void writeCertificate(const fs::path& path, X509* cert)
{
    writeFileAtomically(path, certificatePem(cert), kPublicFile);
}

Bytes signPkcs1v15(EVP_PKEY* key, ByteView digestInfo)
{
    auto ctx = ossl::own<ossl::PkeyCtxPtr>(EVP_PKEY_CTX_new(key, nullptr), "EVP_PKEY_CTX_new");
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

void StoredPin::assign(std::string_view value)
{
    randomFill(salt);
    digest = pinDigest(salt, value);
    triesLeft = maxTries;
}

bool StoredPin::matches(const Secret& candidate) const
{
    const auto candidateDigest = pinDigest(salt, candidate.view());
    return CRYPTO_memcmp(candidateDigest.data(), digest.data(), digest.size()) == 0;
}

nlohmann::json StoredPin::toJson() const
{
    return nlohmann::json{
        {"salt", toHex(salt)}, {"sha256", toHex(digest)}, {"triesLeft", triesLeft}, {"maxTries", maxTries}};
}

StoredPin StoredPin::fromJson(const nlohmann::json& json, const std::string& where, int defaultMaxTries,
                              int maxTriesLimit)
{
    if (!json.is_object()) throw StoreError(where + " missing");
    StoredPin pin;
    pin.salt = fixedHex<16>(json["salt"], where + ".salt");
    pin.digest = fixedHex<32>(json["sha256"], where + ".sha256");
    const auto& max = json.contains("maxTries") ? json["maxTries"] : nlohmann::json(defaultMaxTries);
    if (!max.is_number_integer() || max.get<int>() < 1 || max.get<int>() > maxTriesLimit)
        throw StoreError(where + ".maxTries malformed");
    pin.maxTries = max.get<int>();
    const auto& tries = json["triesLeft"];
    if (!tries.is_number_integer() || tries.get<int>() < 0 || tries.get<int>() > pin.maxTries)
        throw StoreError(where + ".triesLeft malformed");
    pin.triesLeft = tries.get<int>();
    return pin;
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
