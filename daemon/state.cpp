#include "daemon/state.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/platform/filesystem.hpp"

namespace inkan::state {

namespace fs = std::filesystem;

namespace {

// ---- layout and policy ------------------------------------------------------

constexpr std::string_view kAppDirName = "inkan";
constexpr std::string_view kTokenFile = "token";
constexpr std::string_view kTlsDir = "tls";
constexpr std::string_view kCaFile = "ca.pem";
constexpr std::string_view kServerCertFile = "server.pem";
constexpr std::string_view kServerKeyFile = "server-key.pem";

constexpr platform::FileAccess kSecretFile = platform::FileAccess::OwnerOnly;
constexpr platform::FileAccess kPublicFile = platform::FileAccess::EveryoneReads;

constexpr std::size_t kTokenBytes = 32;

// Apple platforms refuse TLS server certificates valid longer than 825 days
// (support.apple.com/HT210176); the validity starts an hour back to absorb
// small clock differences.
constexpr long kValidityDays = 825;
constexpr long kBackdateSeconds = 3600;
// Regenerate ahead of expiry, so the user re-trusts a new CA on a restart of
// their choosing instead of facing an expired certificate.
constexpr long kRenewBeforeDays = 30;
constexpr long kSecondsPerDay = 24 * 60 * 60;

constexpr const char* kCurve = "P-256";
// RFC 5280 §4.1.2.2: serial numbers are positive, at most 20 octets.
constexpr int kSerialBits = 159;
// X.520 ub-common-name: a CN is at most 64 characters.
constexpr std::size_t kMaxCommonName = 64;

constexpr std::string_view kCaNamePrefix = "inkan local CA ";
constexpr std::string_view kOrganization = "inkan";
constexpr std::string_view kLeafCommonName = "localhost";

// X.509 v3 extensions as OpenSSL's configuration syntax (x509v3_config(5)).
constexpr const char* kCaBasicConstraints = "critical,CA:TRUE,pathlen:0";
constexpr const char* kCaKeyUsage = "critical,keyCertSign";
constexpr const char* kLeafBasicConstraints = "critical,CA:FALSE";
constexpr const char* kLeafKeyUsage = "critical,digitalSignature";
constexpr const char* kLeafExtendedKeyUsage = "serverAuth";
constexpr const char* kLeafSubjectAltName = "DNS:localhost,IP:127.0.0.1,IP:::1";
constexpr const char* kSubjectKeyId = "hash";
constexpr const char* kAuthorityKeyId = "keyid:always";


std::string opensslError(const std::string& what)
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return what;
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return what + ": " + text;
}

/// The platform's file errors, as the state directory's (main reports them to the user).
template <class Body>
auto stateFiles(Body body)
{
    try {
        return body();
    } catch (const platform::FileError& e) {
        throw StateError(e.what());
    }
}

// ---- token ------------------------------------------------------------------

bool isValidToken(std::string_view token)
{
    if (token.size() != kTokenBytes * 2) return false;
    return std::all_of(token.begin(), token.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Secret newToken()
{
    std::array<unsigned char, kTokenBytes> random{};
    if (RAND_priv_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        throw StateError(opensslError("cannot draw random bytes for the API token"));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::array<char, kTokenBytes * 2> hex{};
    for (std::size_t i = 0; i < random.size(); ++i) {
        hex[2 * i] = kHex[random[i] >> 4];
        hex[2 * i + 1] = kHex[random[i] & 0x0F];
    }
    Secret token(std::string_view(hex.data(), hex.size()));
    OPENSSL_cleanse(random.data(), random.size());
    OPENSSL_cleanse(hex.data(), hex.size());
    return token;
}

// ---- TLS: reading -----------------------------------------------------------

ossl::BioPtr memoryBio(std::string_view content)
{
    ossl::BioPtr bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    if (!bio) throw StateError("out of memory");
    return bio;
}

ossl::X509Ptr readCertificate(const fs::path& path)
{
    const auto pem = platform::readFile(path);
    if (!pem) return nullptr;
    auto bio = memoryBio(*pem);
    ossl::X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    return certificate;
}

ossl::EvpPkeyPtr readPrivateKey(const fs::path& path)
{
    auto pem = platform::readFile(path);
    if (!pem) return nullptr;
    ossl::EvpPkeyPtr key;
    {
        auto bio = memoryBio(*pem);
        key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    }
    OPENSSL_cleanse(pem->data(), pem->size());
    ERR_clear_error();
    return key;
}

/// True when `time` is after `reference + offsetSeconds`.
bool isAfter(const ASN1_TIME* time, std::time_t reference, long offsetSeconds)
{
    std::time_t threshold = reference + offsetSeconds;
    return X509_cmp_time(time, &threshold) > 0;
}

/// Why the stored material cannot be used at `now`; nullopt when it can.
std::optional<std::string> unusableBecause(const StatePaths& paths, std::time_t now)
{
    const auto ca = readCertificate(paths.caCertificate);
    if (!ca) return std::string(kCaFile) + " is missing or unreadable";
    const auto leaf = readCertificate(paths.serverCertificate);
    if (!leaf) return std::string(kServerCertFile) + " is missing or unreadable";
    const auto key = readPrivateKey(paths.serverKey);
    if (!key) return std::string(kServerKeyFile) + " is missing or unreadable";

    const bool keyMatches = X509_check_private_key(leaf.get(), key.get()) == 1;
    const bool signedByCa = X509_verify(leaf.get(), X509_get0_pubkey(ca.get())) == 1;
    ERR_clear_error();
    if (!keyMatches) return std::string(kServerKeyFile) + " does not belong to " + std::string(kServerCertFile);
    if (!signedByCa) return std::string(kServerCertFile) + " is not signed by " + std::string(kCaFile);

    const long renewWindow = kRenewBeforeDays * kSecondsPerDay;
    if (!isAfter(X509_get0_notAfter(leaf.get()), now, renewWindow)) {
        return std::string(kServerCertFile) + " expires within " + std::to_string(kRenewBeforeDays) + " days";
    }
    if (!isAfter(X509_get0_notAfter(ca.get()), now, renewWindow)) {
        return std::string(kCaFile) + " expires within " + std::to_string(kRenewBeforeDays) + " days";
    }
    if (isAfter(X509_get0_notBefore(leaf.get()), now, 0)) return std::string(kServerCertFile) + " is not valid yet";
    return std::nullopt;
}

// ---- TLS: generating --------------------------------------------------------

ossl::EvpPkeyPtr generateKey()
{
    // OpenSSL 3 EVP: an EC key on NIST P-256 (FIPS 186-4), the curve every browser accepts.
    ossl::EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurve));
    if (!key) throw StateError(opensslError("cannot generate an ECDSA P-256 key"));
    return key;
}

void addExtension(X509* certificate, X509* issuer, int nid, const char* value)
{
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    ossl::X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
    if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
        throw StateError(opensslError(std::string("cannot add the X.509 extension ") + OBJ_nid2sn(nid)));
    }
}

void addNameEntry(X509_NAME* name, const char* field, std::string_view value)
{
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
        throw StateError(opensslError(std::string("cannot set the certificate name field ") + field));
    }
}

std::string hostName()
{
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
    return name.data();
}

std::string utcDate(std::time_t now)
{
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
    return text;
}

/// "inkan local CA <hostname> <date>", so users can tell installs apart in a trust store.
std::string caCommonName(std::time_t now)
{
    const std::string date = utcDate(now);
    const std::size_t room = kMaxCommonName - kCaNamePrefix.size() - 1 - date.size();
    return std::string(kCaNamePrefix) + hostName().substr(0, room) + " " + date;
}

/// A new v3 certificate for `key` with a random serial and the validity window.
ossl::X509Ptr newCertificate(EVP_PKEY* key, std::time_t now)
{
    ossl::X509Ptr certificate(X509_new());
    if (!certificate) throw StateError("out of memory");
    // X509_VERSION_3 is the value 2 (RFC 5280 §4.1.2.1).
    if (X509_set_version(certificate.get(), X509_VERSION_3) != 1) throw StateError(opensslError("cannot set the version"));

    ossl::BignumPtr serial(BN_new());
    if (!serial || BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get()))) {
        throw StateError(opensslError("cannot draw a serial number"));
    }

    if (!X509_time_adj_ex(X509_getm_notBefore(certificate.get()), 0, -kBackdateSeconds, &now) ||
        !X509_time_adj_ex(X509_getm_notAfter(certificate.get()), kValidityDays, -kBackdateSeconds, &now)) {
        throw StateError(opensslError("cannot set the validity"));
    }
    if (X509_set_pubkey(certificate.get(), key) != 1) throw StateError(opensslError("cannot set the public key"));
    return certificate;
}

void sign(X509* certificate, EVP_PKEY* issuerKey)
{
    // ecdsa-with-SHA256 (RFC 5758 §3.2), matching the P-256 key.
    if (X509_sign(certificate, issuerKey, EVP_sha256()) <= 0) throw StateError(opensslError("cannot sign a certificate"));
}

std::string toPem(X509* certificate)
{
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) throw StateError(opensslError("cannot encode a certificate"));
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/// Write the key as unencrypted PKCS #8 PEM. The memory BIO is freed with
/// OPENSSL_clear_free, and our copy is wiped after writing.
void writePrivateKey(const fs::path& path, EVP_PKEY* key)
{
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw StateError(opensslError("cannot encode the server key"));
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    platform::writeFileAtomically(path, std::string_view(data, static_cast<std::size_t>(size)), kSecretFile);
}

void generateTlsMaterial(const StatePaths& paths, std::time_t now)
{
    // The CA: its key exists only inside this scope. It signs the leaf and is
    // freed at the closing brace (EVP_PKEY_free clears the private scalar), so
    // nobody, inkand included, can ever issue another certificate under a CA
    // the user trusted.
    ossl::X509Ptr ca;
    ossl::X509Ptr leaf;
    ossl::EvpPkeyPtr leafKey = generateKey();
    {
        const ossl::EvpPkeyPtr caKey = generateKey();
        ca = newCertificate(caKey.get(), now);
        X509_NAME* caName = X509_get_subject_name(ca.get());
        addNameEntry(caName, "O", kOrganization);
        addNameEntry(caName, "CN", caCommonName(now));
        if (X509_set_issuer_name(ca.get(), caName) != 1) throw StateError(opensslError("cannot set the CA issuer"));
        addExtension(ca.get(), ca.get(), NID_basic_constraints, kCaBasicConstraints);
        addExtension(ca.get(), ca.get(), NID_key_usage, kCaKeyUsage);
        addExtension(ca.get(), ca.get(), NID_subject_key_identifier, kSubjectKeyId);
        sign(ca.get(), caKey.get());

        leaf = newCertificate(leafKey.get(), now);
        X509_NAME* leafName = X509_get_subject_name(leaf.get());
        addNameEntry(leafName, "O", kOrganization);
        addNameEntry(leafName, "CN", kLeafCommonName);
        if (X509_set_issuer_name(leaf.get(), caName) != 1) throw StateError(opensslError("cannot set the leaf issuer"));
        addExtension(leaf.get(), ca.get(), NID_basic_constraints, kLeafBasicConstraints);
        addExtension(leaf.get(), ca.get(), NID_key_usage, kLeafKeyUsage);
        addExtension(leaf.get(), ca.get(), NID_ext_key_usage, kLeafExtendedKeyUsage);
        addExtension(leaf.get(), ca.get(), NID_subject_alt_name, kLeafSubjectAltName);
        addExtension(leaf.get(), ca.get(), NID_subject_key_identifier, kSubjectKeyId);
        addExtension(leaf.get(), ca.get(), NID_authority_key_identifier, kAuthorityKeyId);
        sign(leaf.get(), caKey.get());
    }

    // Key first, CA last: an interrupted write leaves a set that fails the
    // checks above and is regenerated on the next start.
    writePrivateKey(paths.serverKey, leafKey.get());
    platform::writeFileAtomically(paths.serverCertificate, toPem(leaf.get()), kPublicFile);
    platform::writeFileAtomically(paths.caCertificate, toPem(ca.get()), kPublicFile);
}

}  // namespace

// ---- public -----------------------------------------------------------------

std::optional<std::string> processEnvironment(std::string_view name)
{
    const char* value = std::getenv(std::string(name).c_str());
    if (!value || *value == '\0') return std::nullopt;
    return std::string(value);
}

StatePaths StatePaths::under(const fs::path& dir)
{
    StatePaths paths;
    paths.dir = dir;
    paths.token = dir / kTokenFile;
    paths.tlsDir = dir / kTlsDir;
    paths.caCertificate = paths.tlsDir / kCaFile;
    paths.serverCertificate = paths.tlsDir / kServerCertFile;
    paths.serverKey = paths.tlsDir / kServerKeyFile;
    return paths;
}

namespace {

Token tokenOf(const StatePaths& paths)
{
    if (auto content = platform::readFile(paths.token)) {
        std::string_view text(*content);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
        const bool valid = isValidToken(text);
        Token token{valid ? Secret(text) : Secret(), false};
        OPENSSL_cleanse(content->data(), content->size());
        if (valid) {
            platform::restrictFile(paths.token, kSecretFile);
            return token;
        }
    }
    Token token{newToken(), true};
    std::string line(token.value.view());
    line += '\n';
    platform::writeFileAtomically(paths.token, line, kSecretFile);
    OPENSSL_cleanse(line.data(), line.size());
    return token;
}

TlsStatus tlsMaterialOf(const StatePaths& paths, std::time_t now)
{
    TlsStatus status;
    if (auto reason = unusableBecause(paths, now)) {
        std::error_code ignored;
        status.replacedCa = fs::exists(paths.caCertificate, ignored);
        generateTlsMaterial(paths, now);
        status.regenerated = true;
        status.reason = std::move(*reason);
    } else {
        platform::restrictFile(paths.serverKey, kSecretFile);
    }
    return status;
}

}  // namespace

fs::path resolveStateDir(const std::optional<fs::path>& override, const Environment& environment)
{
    if (override && !override->empty()) return *override;
    if (auto dir = environment("INKAN_STATE_DIR")) return fs::path(*dir);
    if (auto xdg = environment("XDG_STATE_HOME"); xdg && fs::path(*xdg).is_absolute()) return fs::path(*xdg) / kAppDirName;
    if (auto home = environment("HOME")) return fs::path(*home) / ".local" / "state" / kAppDirName;
    throw StateError("cannot find a state directory: set INKAN_STATE_DIR or HOME, or pass --state-dir");
}

StatePaths prepareStateDir(const fs::path& dir)
{
    const StatePaths paths = StatePaths::under(fs::absolute(dir));
    stateFiles([&] {
        platform::makePrivateDirectory(paths.dir);
        platform::makePrivateDirectory(paths.tlsDir);
    });
    return paths;
}

Token loadOrCreateToken(const StatePaths& paths)
{
    return stateFiles([&] { return tokenOf(paths); });
}

TlsStatus ensureTlsMaterial(const StatePaths& paths, std::time_t now)
{
    return stateFiles([&] { return tlsMaterialOf(paths, now); });
}

}  // namespace inkan::state
