// The state directory: API token and local TLS material (per-install CA whose
// key never reaches the disk, and the loopback leaf it signs).
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/state.hpp"

using namespace inkan;
using namespace inkan::state;
namespace fs = std::filesystem;

namespace {

constexpr long kDay = 24 * 60 * 60;

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "inkan-state-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string readText(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

mode_t modeOf(const fs::path& path)
{
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

ossl::X509Ptr loadCertificate(const fs::path& path)
{
    const std::string pem = readText(path);
    ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    ossl::X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(certificate);
    return certificate;
}

ossl::EvpPkeyPtr loadKey(const fs::path& path)
{
    const std::string pem = readText(path);
    ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return ossl::EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

/// Verify `leaf` for TLS server use against `ca` as the only trust anchor, at `when`.
int verifyChain(X509* ca, X509* leaf, std::time_t when)
{
    ossl::X509StorePtr store(X509_STORE_new());
    REQUIRE(X509_STORE_add_cert(store.get(), ca) == 1);
    ossl::X509StoreCtxPtr context(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(context.get(), store.get(), leaf, nullptr) == 1);
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_time(context.get(), 0, when);
    if (X509_verify_cert(context.get()) == 1) return X509_V_OK;
    return X509_STORE_CTX_get_error(context.get());
}

std::string curveOf(EVP_PKEY* key)
{
    char name[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof name, &length) != 1) return {};
    return name;
}

std::vector<std::string> subjectAltNames(X509* certificate)
{
    std::vector<std::string> names;
    ossl::GeneralNamesPtr sans(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
    REQUIRE(sans);
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
        if (name->type == GEN_DNS) {
            names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                                                 ASN1_STRING_length(name->d.dNSName)));
        } else if (name->type == GEN_IPADD) {
            const unsigned char* ip = ASN1_STRING_get0_data(name->d.iPAddress);
            const int length = ASN1_STRING_length(name->d.iPAddress);
            std::string hex = "IP:";
            for (int j = 0; j < length; ++j) {
                char b[3];
                std::snprintf(b, sizeof b, "%02x", ip[j]);
                hex += b;
            }
            names.push_back(hex);
        } else {
            names.push_back("other");
        }
    }
    return names;
}

double validityDays(X509* certificate)
{
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate), X509_get0_notAfter(certificate)) == 1);
    return days + seconds / double(kDay);
}

StatePaths freshState(const TempDir& dir) { return prepareStateDir(dir.path / "state"); }

}  // namespace

TEST_SUITE("state directory and token")
{
    TEST_CASE("the state and tls directories are created private (0700), existing ones tightened")
    {
        TempDir dir;
        fs::create_directories(dir.path / "state");
        fs::permissions(dir.path / "state", fs::perms(0755));
        const StatePaths paths = freshState(dir);
        CHECK(modeOf(paths.dir) == 0700);
        CHECK(modeOf(paths.tlsDir) == 0700);
        CHECK(paths.token == paths.dir / "token");
        CHECK(paths.caCertificate == paths.dir / "tls" / "ca.pem");
    }

    TEST_CASE("a new token is 64 lower-case hex digits in a 0600 file, and is reused")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        const Token first = loadOrCreateToken(paths);
        CHECK(first.created);
        const std::string value(first.value.view());
        CHECK(value.size() == 64);
        CHECK(value.find_first_not_of("0123456789abcdef") == std::string::npos);
        CHECK(modeOf(paths.token) == 0600);
        CHECK(readText(paths.token) == value + "\n");

        const Token second = loadOrCreateToken(paths);
        CHECK_FALSE(second.created);
        CHECK(second.value.view() == value);
    }

    TEST_CASE("two installs get different tokens")
    {
        TempDir a;
        TempDir b;
        CHECK(loadOrCreateToken(freshState(a)).value.view() != loadOrCreateToken(freshState(b)).value.view());
    }

    TEST_CASE("an invalid token file is replaced; a loose mode is tightened")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        std::ofstream(paths.token) << "short\n";
        const Token replaced = loadOrCreateToken(paths);
        CHECK(replaced.created);
        CHECK(replaced.value.size() == 64);

        fs::permissions(paths.token, fs::perms(0644));
        const Token kept = loadOrCreateToken(paths);
        CHECK_FALSE(kept.created);
        CHECK(kept.value.view() == replaced.value.view());
        CHECK(modeOf(paths.token) == 0600);
    }
}

TEST_SUITE("state TLS material")
{
    TEST_CASE("the leaf verifies against the CA for TLS server use")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        const TlsStatus status = ensureTlsMaterial(paths);
        CHECK(status.regenerated);
        CHECK_FALSE(status.replacedCa);

        const auto ca = loadCertificate(paths.caCertificate);
        const auto leaf = loadCertificate(paths.serverCertificate);
        CHECK(verifyChain(ca.get(), leaf.get(), std::time(nullptr)) == X509_V_OK);
        // And only against its own CA.
        TempDir other;
        const StatePaths otherPaths = freshState(other);
        ensureTlsMaterial(otherPaths);
        const auto otherCa = loadCertificate(otherPaths.caCertificate);
        CHECK(verifyChain(otherCa.get(), leaf.get(), std::time(nullptr)) != X509_V_OK);
    }

    TEST_CASE("the leaf names only the loopback names and is for server authentication")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);
        const auto leaf = loadCertificate(paths.serverCertificate);

        CHECK(subjectAltNames(leaf.get()) ==
              std::vector<std::string>{"DNS:localhost", "IP:7f000001", "IP:00000000000000000000000000000001"});
        CHECK(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr) == 1);
        CHECK(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0) == 1);
        CHECK(X509_check_ip_asc(leaf.get(), "::1", 0) == 1);
        CHECK(X509_check_host(leaf.get(), "evil.example", 0, 0, nullptr) != 1);

        const uint32_t extendedUsage = X509_get_extended_key_usage(leaf.get());
        CHECK(extendedUsage == XKU_SSL_SERVER);
        CHECK(X509_get_key_usage(leaf.get()) == KU_DIGITAL_SIGNATURE);
        CHECK(X509_check_ca(leaf.get()) == 0);
        const int kuIndex = X509_get_ext_by_NID(leaf.get(), NID_key_usage, -1);
        REQUIRE(kuIndex >= 0);
        CHECK(X509_EXTENSION_get_critical(X509_get_ext(leaf.get(), kuIndex)) == 1);
        CHECK(validityDays(leaf.get()) <= 825.0);
        CHECK(validityDays(leaf.get()) > 800.0);
    }

    TEST_CASE("the CA is a critical CA:TRUE for certificate signing, named after the host and date")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);
        const auto ca = loadCertificate(paths.caCertificate);

        CHECK(X509_check_ca(ca.get()) >= 1);
        const int bcIndex = X509_get_ext_by_NID(ca.get(), NID_basic_constraints, -1);
        REQUIRE(bcIndex >= 0);
        CHECK(X509_EXTENSION_get_critical(X509_get_ext(ca.get(), bcIndex)) == 1);
        CHECK(X509_get_key_usage(ca.get()) == KU_KEY_CERT_SIGN);

        char name[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, name, sizeof name);
        CHECK(std::string(name).rfind("inkan local CA ", 0) == 0);
        CHECK(std::string(name).size() <= 64);
    }

    TEST_CASE("both keys are ECDSA P-256")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);
        const auto ca = loadCertificate(paths.caCertificate);
        const auto leaf = loadCertificate(paths.serverCertificate);
        CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(ca.get())) == EVP_PKEY_EC);
        CHECK(curveOf(X509_get0_pubkey(ca.get())) == "prime256v1");
        CHECK(curveOf(X509_get0_pubkey(leaf.get())) == "prime256v1");
        CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);
    }

    TEST_CASE("the CA key is not on disk: the only private key is the leaf's")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        loadOrCreateToken(paths);
        ensureTlsMaterial(paths);

        std::vector<std::string> tlsFiles;
        for (const auto& entry : fs::directory_iterator(paths.tlsDir)) tlsFiles.push_back(entry.path().filename());
        std::sort(tlsFiles.begin(), tlsFiles.end());
        CHECK(tlsFiles == std::vector<std::string>{"ca.pem", "server-key.pem", "server.pem"});

        const auto ca = loadCertificate(paths.caCertificate);
        const auto leaf = loadCertificate(paths.serverCertificate);
        for (const auto& entry : fs::recursive_directory_iterator(paths.dir)) {
            if (!entry.is_regular_file()) continue;
            CAPTURE(entry.path().string());
            const auto key = loadKey(entry.path());
            if (entry.path() == paths.serverKey) {
                REQUIRE(key);
                CHECK(EVP_PKEY_eq(key.get(), X509_get0_pubkey(leaf.get())) == 1);
                CHECK(EVP_PKEY_eq(key.get(), X509_get0_pubkey(ca.get())) != 1);
            } else {
                CHECK_FALSE(key);
                CHECK(readText(entry.path()).find("PRIVATE KEY") == std::string::npos);
            }
        }
    }

    TEST_CASE("the files have their modes: key 0600, certificates 0644")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);
        CHECK(modeOf(paths.serverKey) == 0600);
        CHECK(modeOf(paths.serverCertificate) == 0644);
        CHECK(modeOf(paths.caCertificate) == 0644);

        fs::permissions(paths.serverKey, fs::perms(0644));
        CHECK_FALSE(ensureTlsMaterial(paths).regenerated);
        CHECK(modeOf(paths.serverKey) == 0600);
    }

    TEST_CASE("usable material is reused as is")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);
        const std::string ca = readText(paths.caCertificate);
        const std::string leaf = readText(paths.serverCertificate);
        const std::string key = readText(paths.serverKey);
        CHECK_FALSE(ensureTlsMaterial(paths).regenerated);
        CHECK(readText(paths.caCertificate) == ca);
        CHECK(readText(paths.serverCertificate) == leaf);
        CHECK(readText(paths.serverKey) == key);
    }

    TEST_CASE("a leaf expiring within 30 days is replaced, together with the CA")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        const std::time_t now = std::time(nullptr);
        ensureTlsMaterial(paths, now - 800 * kDay);  // expires in about 25 days
        const std::string oldCa = readText(paths.caCertificate);

        // Still kept 41 days before its expiry...
        CHECK_FALSE(ensureTlsMaterial(paths, now - 16 * kDay).regenerated);
        // ...renewed 25 days before it.
        const TlsStatus status = ensureTlsMaterial(paths, now);
        CHECK(status.regenerated);
        CHECK(status.reason.find("expires within 30 days") != std::string::npos);
        CHECK(status.replacedCa);
        CHECK(readText(paths.caCertificate) != oldCa);
        const auto ca = loadCertificate(paths.caCertificate);
        const auto leaf = loadCertificate(paths.serverCertificate);
        CHECK(verifyChain(ca.get(), leaf.get(), now) == X509_V_OK);
    }

    TEST_CASE("missing, unparseable or mismatched files regenerate everything")
    {
        TempDir dir;
        const StatePaths paths = freshState(dir);
        ensureTlsMaterial(paths);

        fs::remove(paths.serverKey);
        CHECK(ensureTlsMaterial(paths).regenerated);

        std::ofstream(paths.serverCertificate) << "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n";
        CHECK(ensureTlsMaterial(paths).regenerated);

        // A CA from another install: the leaf no longer chains to ca.pem.
        TempDir other;
        const StatePaths otherPaths = freshState(other);
        ensureTlsMaterial(otherPaths);
        fs::copy_file(otherPaths.caCertificate, paths.caCertificate, fs::copy_options::overwrite_existing);
        const TlsStatus foreignCa = ensureTlsMaterial(paths);
        CHECK(foreignCa.regenerated);
        CHECK(foreignCa.reason.find("not signed by") != std::string::npos);

        // A key from another install: it does not match the leaf.
        fs::copy_file(otherPaths.serverKey, paths.serverKey, fs::copy_options::overwrite_existing);
        const TlsStatus foreignKey = ensureTlsMaterial(paths);
        CHECK(foreignKey.regenerated);
        CHECK(foreignKey.reason.find("does not belong") != std::string::npos);

        const auto ca = loadCertificate(paths.caCertificate);
        const auto leaf = loadCertificate(paths.serverCertificate);
        CHECK(verifyChain(ca.get(), leaf.get(), std::time(nullptr)) == X509_V_OK);
        CHECK(modeOf(paths.serverKey) == 0600);
    }
}
