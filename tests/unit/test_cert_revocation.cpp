// RevocationChecker against real servers on loopback: `openssl ocsp` answering
// from the test PKI's CA database, the CRL published by `python3 -m
// http.server`, and a static responder replaying pre-made OCSP responses.
// Each test starts the servers it needs and stops them when it ends.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/cert/chain.hpp"
#include "daemon/cert/revocation.hpp"
#include "daemon/error.hpp"
#include "tests/pki/test_pki.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using inkan::cert::RevocationChecker;
using inkan::cert::RevocationConfig;
using inkan::cert::RevocationMethod;
using inkan::cert::RevocationResult;
using inkan::cert::RevocationStatus;
using inkan::cert::TrustStore;
using inkan::cert::UnknownCause;
using inkan::testing::testPki;

const TrustStore& trust() {
    static const TrustStore store = TrustStore::fromDirectory(testPki().trustDir());
    return store;
}

Bytes issuer() { return testPki().pemAsDer("intermediate.pem"); }

/// OpenSSL's HTTP client retries a refused connection until the timeout:
/// tests that expect a dead server keep it short.
constexpr std::chrono::seconds kDeadServerTimeout{1};

RevocationConfig ocspOnly() {
    RevocationConfig config;
    config.order = {RevocationMethod::Ocsp};
    config.timeout = std::chrono::seconds(5);
    return config;
}

RevocationConfig crlOnly() {
    RevocationConfig config;
    config.order = {RevocationMethod::Crl};
    config.timeout = std::chrono::seconds(5);
    return config;
}

RevocationResult check(const RevocationConfig& config, const std::string& leaf) {
    RevocationChecker checker(config);
    return checker.check(testPki().leaf(leaf), issuer(), trust());
}

/// A clock `offset` ahead of the real one.
std::function<std::chrono::system_clock::time_point()> clockAhead(std::chrono::hours offset) {
    return [offset] { return std::chrono::system_clock::now() + offset; };
}

/// An unknown verdict for `cause`; the checker's detail is printed when it is not.
void checkUnknown(const RevocationResult& result, UnknownCause cause) {
    INFO(result.detail);
    CHECK(result.status == RevocationStatus::Unknown);
    CHECK(result.cause == cause);
}

}  // namespace

// --- OCSP ---------------------------------------------------------------------

TEST_CASE("OCSP: a good certificate is good, from the responder in its AIA") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    const auto result = check(ocspOnly(), "good");
    INFO(result.detail);
    CHECK(result.status == RevocationStatus::Good);
    CHECK(result.source == RevocationMethod::Ocsp);
    CHECK(result.url == pki.ocspUrl());
    CHECK(result.cause == UnknownCause::None);
    CHECK(result.thisUpdate.has_value());
    CHECK(result.nextUpdate.has_value());
    CHECK_FALSE(result.fromCache);
    REQUIRE(result.attempts.size() == 1);
    CHECK(result.attempts[0].status == RevocationStatus::Good);
}

TEST_CASE("OCSP: a revoked certificate is revoked with reason keyCompromise and a time") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    const auto result = check(ocspOnly(), "revoked");
    INFO(result.detail);
    CHECK(result.status == RevocationStatus::Revoked);
    CHECK(result.reason == "keyCompromise");
    REQUIRE(result.revocationTime.has_value());
    CHECK(result.revocationTime->size() == 20);
    CHECK(inkan::cert::revocationStatusName(result.status) == "revoked");
}

TEST_CASE("OCSP: a certificate on hold is suspended (休止), reason certificateHold") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    const auto result = check(ocspOnly(), "hold");
    INFO(result.detail);
    CHECK(result.status == RevocationStatus::Suspended);
    CHECK(result.reason == "certificateHold");
    CHECK(inkan::cert::revocationStatusName(result.status) == "suspended");
}

TEST_CASE("OCSP: the answer is cached until nextUpdate and survives the responder going away") {
    const auto& pki = testPki();
    RevocationConfig config = ocspOnly();
    config.timeout = kDeadServerTimeout;
    RevocationChecker checker(config);
    {
        const auto responder = pki.startOcspResponder(pki.ocspPort);
        CHECK_FALSE(checker.check(pki.leaf("revoked"), issuer(), trust()).fromCache);
    }
    const auto cached = checker.check(pki.leaf("revoked"), issuer(), trust());
    INFO(cached.detail);
    CHECK(cached.status == RevocationStatus::Revoked);
    CHECK(cached.fromCache);

    checker.clearCache();
    const auto afterClear = checker.check(pki.leaf("revoked"), issuer(), trust());
    INFO(afterClear.detail);
    CHECK(afterClear.status == RevocationStatus::Unknown);
    CHECK(afterClear.cause == UnknownCause::ResponderDown);
}

TEST_CASE("OCSP: a responder that is down gives unknown (responderDown), never good") {
    RevocationConfig config = ocspOnly();
    config.timeout = kDeadServerTimeout;
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(inkan::testing::freeLoopbackPort()) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::ResponderDown);
    CHECK(inkan::cert::unknownCauseName(result.cause) == "responderDown");
    CHECK_FALSE(result.source.has_value());
}

TEST_CASE("OCSP: a response past nextUpdate is stale, hence unknown") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    RevocationConfig config = ocspOnly();
    config.clock = clockAhead(std::chrono::hours(72));  // nextUpdate is one day ahead
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::Stale);
}

TEST_CASE("OCSP: a replayed response with another request's nonce is refused") {
    const auto& pki = testPki();
    const auto replay = pki.premadeOcspResponse("good", "signer", /*nonce=*/true, "foreign-nonce");
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startStaticOcspResponder(port, replay);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::NonceMismatch);
}

TEST_CASE("OCSP: a pre-produced response without nonce is accepted unless the nonce is required") {
    const auto& pki = testPki();
    const auto premade = pki.premadeOcspResponse("good", "signer", /*nonce=*/false, "no-nonce");
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startStaticOcspResponder(port, premade);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    CHECK(check(config, "good").status == RevocationStatus::Good);

    config.requireNonce = true;
    const auto strict = check(config, "good");
    INFO(strict.detail);
    CHECK(strict.status == RevocationStatus::Unknown);
    CHECK(strict.cause == UnknownCause::NonceMismatch);
}

TEST_CASE("OCSP: a response for another certificate does not vouch for this one") {
    const auto& pki = testPki();
    const auto premade = pki.premadeOcspResponse("revoked", "signer", /*nonce=*/false, "other-cert");
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startStaticOcspResponder(port, premade);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::MalformedResponse);
}

TEST_CASE("OCSP: a signer without id-kp-OCSPSigning is not authorized") {
    const auto& pki = testPki();
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startOcspResponder(port, "no-eku");
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "revoked");
    checkUnknown(result, UnknownCause::UnauthorizedResponder);
}

TEST_CASE("OCSP: a signer certified by another CA is not authorized") {
    const auto& pki = testPki();
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startOcspResponder(port, "other-ca");
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::UnauthorizedResponder);
}

TEST_CASE("OCSP: the issuing CA may sign its own responses") {
    const auto& pki = testPki();
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startOcspResponder(port, "intermediate");
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    CHECK(check(config, "revoked").status == RevocationStatus::Revoked);
}

TEST_CASE("OCSP: a response with a corrupted signature is refused (badSignature)") {
    const auto& pki = testPki();
    // Signed by the CA itself and without embedded certificates, so the last
    // bytes of the response are the signature and the signer is still found.
    const auto path = pki.premadeOcspResponse("good", "intermediate", /*nonce=*/false, "tampered", false);
    Bytes bytes = inkan::testing::readFile(path);
    bytes.back() ^= 0x01;
    inkan::testing::writeFile(path, bytes);
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startStaticOcspResponder(port, path);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::BadSignature);
}

TEST_CASE("OCSP: a certificate the responder has no record of is notKnownToResponder") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = pki.ocspUrl();
    RevocationChecker checker(config);
    // The OCSP signer was issued by the CA outside its database.
    const auto result = checker.check(pki.pemAsDer("ocsp/signer.pem"), issuer(), trust());
    checkUnknown(result, UnknownCause::NotKnownToResponder);
}

TEST_CASE("OCSP: a responder for another CA is not authorized to answer for this certificate") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = pki.ocspUrl();
    RevocationChecker checker(config);
    // The responder speaks for the issuing CA only; its signed "unknown" about
    // a certificate of another CA carries no authority.
    const auto result = checker.check(pki.leaf("unknown-issuer"), pki.pemAsDer("other-ca.pem"), trust());
    checkUnknown(result, UnknownCause::UnauthorizedResponder);
}

TEST_CASE("OCSP: a responder answering tryLater gives responderError") {
    const auto& pki = testPki();
    // OCSPResponse { responseStatus tryLater(3) } (RFC 6960 §4.2.1), no body.
    const auto path = pki.dir / "try-later.resp";
    inkan::testing::writeFile(path, {0x30, 0x03, 0x0A, 0x01, 0x03});
    const int port = inkan::testing::freeLoopbackPort();
    const auto responder = pki.startStaticOcspResponder(port, path);
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::ResponderError);
}

TEST_CASE("OCSP: only http:// URLs are fetched") {
    RevocationConfig config = ocspOnly();
    config.ocspUrl = "https://127.0.0.1:1/";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::UnsupportedUrl);
    config.ocspUrl = "http://user@127.0.0.1:1/";
    CHECK(check(config, "good").cause == UnknownCause::UnsupportedUrl);
    config.ocspUrl = "ldap://127.0.0.1/cn=x";
    CHECK(check(config, "good").cause == UnknownCause::UnsupportedUrl);
}

// --- CRL ----------------------------------------------------------------------

TEST_CASE("CRL: good, revoked (keyCompromise) and suspended (certificateHold) from the CDP") {
    const auto& pki = testPki();
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationChecker checker(crlOnly());

    const auto good = checker.check(pki.leaf("good"), issuer(), trust());

    INFO(good.detail);
    CHECK(good.status == RevocationStatus::Good);
    CHECK(good.source == RevocationMethod::Crl);
    CHECK(good.url == pki.crlUrl());
    CHECK(good.nextUpdate.has_value());

    const auto revoked = checker.check(pki.leaf("revoked"), issuer(), trust());

    INFO(revoked.detail);
    CHECK(revoked.status == RevocationStatus::Revoked);
    CHECK(revoked.reason == "keyCompromise");
    CHECK(revoked.revocationTime.has_value());
    CHECK(revoked.fromCache);  // the CRL fetched for "good" is reused

    const auto hold = checker.check(pki.leaf("hold"), issuer(), trust());

    INFO(hold.detail);
    CHECK(hold.status == RevocationStatus::Suspended);
    CHECK(hold.reason == "certificateHold");
}

TEST_CASE("CRL: a CRL past its nextUpdate is stale, hence unknown") {
    const auto& pki = testPki();
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config = crlOnly();
    config.clock = clockAhead(std::chrono::hours(72));  // -crldays 1
    const auto result = check(config, "revoked");
    checkUnknown(result, UnknownCause::Stale);
}

TEST_CASE("CRL: a CRL with a corrupted signature is refused (badSignature)") {
    const auto& pki = testPki();
    Bytes crl = inkan::testing::readFile(pki.wwwDir() / "intermediate.crl");
    crl.back() ^= 0x01;
    inkan::testing::writeFile(pki.wwwDir() / "tampered.crl", crl);
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config = crlOnly();
    config.crlUrl = "http://127.0.0.1:" + std::to_string(pki.crlPort) + "/tampered.crl";
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::BadSignature);
}

TEST_CASE("CRL: another CA's CRL does not speak for this certificate") {
    const auto& pki = testPki();
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config = crlOnly();
    config.crlUrl = pki.crlUrl();
    RevocationChecker checker(config);
    const auto result = checker.check(pki.leaf("unknown-issuer"), pki.pemAsDer("other-ca.pem"), trust());
    checkUnknown(result, UnknownCause::UnauthorizedResponder);
}

TEST_CASE("CRL: something that is not a CRL is malformedResponse; a missing file responderDown") {
    const auto& pki = testPki();
    inkan::testing::writeFile(pki.wwwDir() / "garbage.crl", {0x30, 0x03, 0x02, 0x01, 0x00});
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config = crlOnly();
    config.crlUrl = "http://127.0.0.1:" + std::to_string(pki.crlPort) + "/garbage.crl";
    CHECK(check(config, "good").cause == UnknownCause::MalformedResponse);
    config.crlUrl = "http://127.0.0.1:" + std::to_string(pki.crlPort) + "/missing.crl";
    CHECK(check(config, "good").cause == UnknownCause::ResponderDown);
}

TEST_CASE("revocation fetches do not follow redirects") {
    const auto& pki = testPki();
    const auto server = pki.startCrlServer(pki.crlPort);
    const int port = inkan::testing::freeLoopbackPort();
    const auto redirector = pki.startRedirector(port, pki.crlUrl());
    RevocationConfig config = crlOnly();
    config.crlUrl = "http://127.0.0.1:" + std::to_string(port) + "/intermediate.crl";
    const auto viaCrl = check(config, "good");
    INFO(viaCrl.detail);
    CHECK(viaCrl.status == RevocationStatus::Unknown);
    CHECK(viaCrl.cause == UnknownCause::ResponderDown);

    RevocationConfig ocsp = ocspOnly();
    ocsp.ocspUrl = "http://127.0.0.1:" + std::to_string(port) + "/";
    const auto viaOcsp = check(ocsp, "good");
    INFO(viaOcsp.detail);
    CHECK(viaOcsp.status == RevocationStatus::Unknown);
    CHECK(viaOcsp.cause == UnknownCause::ResponderDown);
}

TEST_CASE("a certificate paired with a CA that did not issue it is refused, not judged") {
    const auto& pki = testPki();
    RevocationChecker checker(crlOnly());
    try {
        checker.check(pki.leaf("unknown-issuer"), issuer(), trust());
        FAIL("expected BadRequest");
    } catch (const inkan::Error& e) {
        CHECK(e.code() == inkan::ErrorCode::BadRequest);
    }
    CHECK_THROWS_AS(checker.check(Bytes{0x30, 0x00}, issuer(), trust()), inkan::Error);
}

// --- Order and fallback -----------------------------------------------------------

TEST_CASE("ocsp-then-crl: with the responder down, the CRL gives the answer") {
    const auto& pki = testPki();
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config;  // default order: OCSP, then CRL
    config.timeout = kDeadServerTimeout;
    const auto result = check(config, "revoked");
    INFO(result.detail);
    CHECK(result.status == RevocationStatus::Revoked);
    CHECK(result.source == RevocationMethod::Crl);
    REQUIRE(result.attempts.size() == 2);
    CHECK(result.attempts[0].method == RevocationMethod::Ocsp);
    CHECK(result.attempts[0].cause == UnknownCause::ResponderDown);
    CHECK(result.attempts[1].method == RevocationMethod::Crl);
}

TEST_CASE("crl-then-ocsp: the configured order is followed") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    const auto server = pki.startCrlServer(pki.crlPort);
    RevocationConfig config;
    config.order = {RevocationMethod::Crl, RevocationMethod::Ocsp};
    const auto result = check(config, "good");
    INFO(result.detail);
    CHECK(result.source == RevocationMethod::Crl);
    CHECK(result.attempts.size() == 1);
}

TEST_CASE("both sources down: unknown, with the telling cause") {
    RevocationConfig config;
    config.timeout = kDeadServerTimeout;
    const auto result = check(config, "good");
    checkUnknown(result, UnknownCause::ResponderDown);
    CHECK(result.attempts.size() == 2);
}

TEST_CASE("a certificate with neither AIA nor CDP has noSource") {
    const auto result = check(RevocationConfig{}, "jpki");
    checkUnknown(result, UnknownCause::NoSource);
    CHECK(inkan::cert::unknownCauseName(result.cause) == "noSource");
}

TEST_CASE("a validated chain's leaf is checked against its issuer") {
    const auto& pki = testPki();
    const auto responder = pki.startOcspResponder(pki.ocspPort);
    const auto chain = inkan::cert::validateChain(pki.leaf("hold"), {}, trust());
    REQUIRE(chain.valid);
    RevocationChecker checker(ocspOnly());
    CHECK(checker.check(chain, trust()).status == RevocationStatus::Suspended);

    const inkan::cert::ChainResult lonely{};
    CHECK(checker.check(lonely, trust()).cause == UnknownCause::NoSource);
}
