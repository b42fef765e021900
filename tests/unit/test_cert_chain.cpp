// validateChain(): the test PKI's leaves against its anchors directory.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include <openssl/x509_vfy.h>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/chain.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "tests/pki/test_pki.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using inkan::cert::ChainFailure;
using inkan::cert::TrustStore;
using inkan::cert::validateChain;
using inkan::testing::testPki;

const std::vector<Bytes> kNoExtras;

/// A fresh directory holding only the test root (no intermediate).
std::filesystem::path rootOnlyDir() {
    const auto dir = testPki().dir / "root-only";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(testPki().dir / "root.pem", dir / "root.pem",
                               std::filesystem::copy_options::overwrite_existing);
    return dir;
}

}  // namespace

TEST_CASE("a good leaf chains to the root through the directory's intermediate") {
    const auto& pki = testPki();
    const auto result = validateChain(pki.leaf("good"), kNoExtras, pki.trustDir());
    CHECK(result.valid);
    CHECK(result.reason == ChainFailure::None);
    CHECK(result.failingDepth == -1);
    REQUIRE(result.chain.size() == 3);
    CHECK(result.chain[0].subject == "CN=印鑑 太郎 有効,O=株式会社印鑑試験,C=JP");
    CHECK(result.chain[1].subject.starts_with("CN=Registrar of Tokyo Legal Affairs Bureau Test Issuing CA"));
    CHECK(result.chain[2].subject.starts_with("CN=Registrar of Tokyo Legal Affairs Bureau Test,"));
    CHECK_FALSE(result.chain[0].trustAnchor);
    CHECK(result.chain[2].trustAnchor);
    CHECK(result.chain[0].der == pki.leaf("good"));
}

TEST_CASE("the three critical registry extensions are handled; stock OpenSSL would refuse them") {
    const auto& pki = testPki();
    // Baseline: the same verification without inkan's callback fails, so the
    // test below proves the callback, not a lenient OpenSSL.
    const auto trust = TrustStore::fromDirectory(pki.trustDir());
    const inkan::ossl::X509StorePtr bare(X509_STORE_new());
    const auto root = pki.pemAsDer("root.pem");
    const unsigned char* p = root.data();
    const inkan::ossl::X509Ptr rootCert(d2i_X509(nullptr, &p, static_cast<long>(root.size())));
    REQUIRE(X509_STORE_add_cert(bare.get(), rootCert.get()) == 1);
    const auto leafDer = pki.leaf("good");
    p = leafDer.data();
    const inkan::ossl::X509Ptr leaf(d2i_X509(nullptr, &p, static_cast<long>(leafDer.size())));
    const auto untrusted = trust.intermediates();
    const inkan::ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(ctx.get(), bare.get(), leaf.get(), untrusted.get()) == 1);
    CHECK(X509_verify_cert(ctx.get()) != 1);
    CHECK(X509_STORE_CTX_get_error(ctx.get()) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION);

    CHECK(validateChain(leafDer, kNoExtras, trust).valid);
}

TEST_CASE("an unknown critical extension still fails next to the registry ones") {
    const auto& pki = testPki();
    const auto result = validateChain(pki.leaf("unknown-critical"), kNoExtras, pki.trustDir());
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::UnhandledCriticalExtension);
    CHECK(inkan::cert::chainFailureName(result.reason) == "unhandledCriticalExtension");
    CHECK(result.failingDepth == 0);
}

TEST_CASE("an expired leaf is invalid with reason expired") {
    const auto& pki = testPki();
    const auto result = validateChain(pki.leaf("expired"), kNoExtras, pki.trustDir());
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::Expired);
    CHECK(result.failingDepth == 0);
    CHECK(result.detail == "certificate has expired");
    CHECK(result.chain.size() == 3);  // the path was built; only the time is wrong
}

TEST_CASE("a not-yet-valid leaf is invalid with reason notYetValid") {
    const auto& pki = testPki();
    const auto result = validateChain(pki.leaf("notyet"), kNoExtras, pki.trustDir());
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::NotYetValid);
}

TEST_CASE("checked as of a time inside its validity, an expired leaf was valid") {
    const auto& pki = testPki();
    const auto info = inkan::cert::parseCertificate(pki.leaf("expired"));
    const auto then = info.notBeforeTime + std::chrono::days{10};
    const auto result = validateChain(pki.leaf("expired"), kNoExtras, pki.trustDir(), then);
    CHECK(result.valid);
    CHECK(result.checkedAt > info.notBefore);  // RFC 3339 UTC strings order like times
    CHECK(result.checkedAt < info.notAfter);
}

TEST_CASE("checked as of a time after notAfter, a good leaf is expired") {
    const auto& pki = testPki();
    const auto info = inkan::cert::parseCertificate(pki.leaf("good"));
    const auto later = info.notAfterTime + std::chrono::days{1};
    const auto result = validateChain(pki.leaf("good"), kNoExtras, pki.trustDir(), later);
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::Expired);
}

TEST_CASE("a leaf from a CA outside the anchors has an unknown issuer") {
    const auto& pki = testPki();
    const auto result = validateChain(pki.leaf("unknown-issuer"), kNoExtras, pki.trustDir());
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::UnknownIssuer);
    REQUIRE(result.chain.size() == 1);
    CHECK_FALSE(result.chain[0].trustAnchor);
}

TEST_CASE("the foreign CA's certificate among the extras does not make it trusted") {
    const auto& pki = testPki();
    const std::vector<Bytes> extras{pki.pemAsDer("other-ca.pem")};
    const auto result = validateChain(pki.leaf("unknown-issuer"), extras, pki.trustDir());
    CHECK_FALSE(result.valid);
    CHECK(result.reason == ChainFailure::UnknownIssuer);
}

TEST_CASE("with only the root as anchor, the card's intermediate completes the chain") {
    const auto& pki = testPki();
    const auto dir = rootOnlyDir();
    const auto without = validateChain(pki.leaf("good"), kNoExtras, dir);
    CHECK_FALSE(without.valid);
    CHECK(without.reason == ChainFailure::UnknownIssuer);

    const std::vector<Bytes> extras{pki.pemAsDer("intermediate.pem")};
    const auto with = validateChain(pki.leaf("good"), extras, dir);
    CHECK(with.valid);
    CHECK(with.chain.size() == 3);
}

TEST_CASE("the anchors directory: self-signed become anchors, others intermediates, junk is skipped") {
    const auto& pki = testPki();
    const auto dir = pki.dir / "mixed-anchors";
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(pki.dir / "root.pem", dir / "root.PEM",
                               std::filesystem::copy_options::overwrite_existing);
    inkan::testing::writeFile(dir / "intermediate.cer", pki.pemAsDer("intermediate.pem"));  // DER
    inkan::testing::writeFile(dir / "junk.crt", {'n', 'o', 'p', 'e'});
    inkan::testing::writeFile(dir / "ignored.txt", pki.pemAsDer("other-ca.pem"));  // wrong extension

    const auto trust = TrustStore::fromDirectory(dir);
    CHECK(trust.anchorCount() == 1);
    CHECK(trust.intermediateCount() == 1);
    REQUIRE(trust.skippedFiles().size() == 1);
    CHECK(trust.skippedFiles()[0].ends_with("junk.crt"));
    CHECK(validateChain(pki.leaf("good"), kNoExtras, trust).valid);
}

TEST_CASE("a missing anchors directory is an Internal error, a garbage leaf a BadRequest") {
    const auto& pki = testPki();
    try {
        validateChain(pki.leaf("good"), kNoExtras, pki.dir / "no-such-dir");
        FAIL("expected an error");
    } catch (const inkan::Error& e) {
        CHECK(e.code() == inkan::ErrorCode::Internal);
    }
    try {
        validateChain(Bytes{0x30, 0x00}, kNoExtras, pki.trustDir());
        FAIL("expected an error");
    } catch (const inkan::Error& e) {
        CHECK(e.code() == inkan::ErrorCode::BadRequest);
    }
    const std::vector<Bytes> badExtra{{0x01, 0x02}};
    CHECK_THROWS_AS(validateChain(pki.leaf("good"), badExtra, pki.trustDir()), inkan::Error);
}
