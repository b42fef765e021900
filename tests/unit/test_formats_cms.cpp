// The document formats' CMS with a software key standing in for the card:
// the SignedData verifies with OpenSSL's own CMS_verify over the content,
// carries the CAdES-BES attributes, and a wrong signature or certificate is
// caught; the driver picks the certificate and never signs when a step fails.
#include <doctest/doctest.h>

#include <ctime>
#include <string>

#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/formats/cms_document.hpp"
#include "daemon/formats/document_signing.hpp"

using namespace inkan;

namespace {

using CmsPtr = ossl::Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;

struct SoftwareCard {
    ossl::EvpPkeyPtr key;
    Bytes certificate;  // self-signed unless issued by a CA
};

SoftwareCard makeCard(const char* commonName, bool ca = false)
{
    SoftwareCard card;
    card.key.reset(EVP_RSA_gen(2048));
    REQUIRE(card.key);
    ossl::X509Ptr x509(X509_new());
    X509_set_version(x509.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
    X509_set_pubkey(x509.get(), card.key.get());
    X509_NAME* name = X509_get_subject_name(x509.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
    X509_set_issuer_name(x509.get(), name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, x509.get(), x509.get(), nullptr, nullptr, 0);
    ossl::X509ExtensionPtr constraints(
        X509V3_EXT_conf_nid(nullptr, &context, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
    X509_add_ext(x509.get(), constraints.get(), -1);
    REQUIRE(X509_sign(x509.get(), card.key.get(), EVP_sha256()) > 0);
    unsigned char* der = nullptr;
    const int length = i2d_X509(x509.get(), &der);
    ossl::OpensslBytesPtr owned(der);
    card.certificate.assign(der, der + length);
    return card;
}

const EVP_MD* mdOf(DigestAlgorithm algorithm)
{
    return algorithm == DigestAlgorithm::Sha512 ? EVP_sha512() : algorithm == DigestAlgorithm::Sha384 ? EVP_sha384() : EVP_sha256();
}

/// What the card does: RSASSA-PKCS1-v1_5 over the DigestInfo of `digest`.
Bytes cardSign(EVP_PKEY* key, DigestAlgorithm algorithm, const Bytes& digest)
{
    ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(key, nullptr));
    REQUIRE(EVP_PKEY_sign_init(context.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_signature_md(context.get(), mdOf(algorithm)) == 1);
    std::size_t length = 0;
    REQUIRE(EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size()) == 1);
    Bytes signature(length);
    REQUIRE(EVP_PKEY_sign(context.get(), signature.data(), &length, digest.data(), digest.size()) == 1);
    signature.resize(length);
    return signature;
}

CmsPtr parse(const Bytes& der)
{
    const unsigned char* cursor = der.data();
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(der.size())));
    REQUIRE(cms);
    return cms;
}

/// OpenSSL's own verification of the detached signature over `content`, the
/// certificate taken from the SignedData and not chain-checked.
bool verifies(const Bytes& der, const std::string& content)
{
    CmsPtr cms = parse(der);
    ossl::BioPtr data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    return CMS_verify(cms.get(), nullptr, nullptr, data.get(), nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
}

int signedAttribute(CMS_SignerInfo* si, int nid) { return CMS_signed_get_attr_by_NID(si, nid, -1); }

const std::string kContent = "登記申請書\r\n商号 株式会社いんかん商事\n";

Bytes bytesOf(const std::string& text) { return Bytes(text.begin(), text.end()); }

}  // namespace

TEST_SUITE("formats cms")
{
    TEST_CASE("a detached CAdES-BES SignedData that OpenSSL verifies over the content")
    {
        const SoftwareCard card = makeCard("signer");
        for (const auto algorithm : {DigestAlgorithm::Sha256, DigestAlgorithm::Sha384, DigestAlgorithm::Sha512}) {
            CAPTURE(static_cast<int>(algorithm));
            formats::CmsDocument document(bytesOf(kContent), algorithm, "申請書.txt", std::time(nullptr));
            CHECK(document.description().size == kContent.size());
            CHECK(document.description().sha256.size() == 64);
            const Bytes toBeSigned = document.prepare({"sign", card.certificate, {}});
            CHECK(toBeSigned.size() == static_cast<std::size_t>(EVP_MD_get_size(mdOf(algorithm))));
            const Bytes der = document.finish(cardSign(card.key.get(), algorithm, toBeSigned));

            CHECK(verifies(der, kContent));
            CHECK_FALSE(verifies(der, kContent + " "));

            CmsPtr cms = parse(der);
            ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
            CHECK((content == nullptr || *content == nullptr));  // detached: no eContent
            CHECK(OBJ_obj2nid(CMS_get0_eContentType(cms.get())) == NID_pkcs7_data);
            CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
            CHECK(signedAttribute(si, NID_pkcs9_contentType) >= 0);
            CHECK(signedAttribute(si, NID_pkcs9_signingTime) >= 0);
            CHECK(signedAttribute(si, NID_pkcs9_messageDigest) >= 0);
            CHECK(signedAttribute(si, NID_id_smime_aa_signingCertificateV2) >= 0);
            CHECK(signedAttribute(si, NID_SMIMECapabilities) < 0);
            CHECK(CMS_signed_get_attr_count(si) == 4);
            ossl::X509StackPtr certificates(CMS_get1_certs(cms.get()));
            CHECK(sk_X509_num(certificates.get()) == 1);
        }
    }

    TEST_CASE("a signature by another key is caught before anything leaves")
    {
        const SoftwareCard card = makeCard("signer");
        const SoftwareCard other = makeCard("someone else");
        formats::CmsDocument document(bytesOf(kContent), DigestAlgorithm::Sha256, "", std::time(nullptr));
        const Bytes toBeSigned = document.prepare({"sign", card.certificate, {}});
        try {
            document.finish(cardSign(other.key.get(), DigestAlgorithm::Sha256, toBeSigned));
            FAIL("a wrong signature was accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::Internal);
        }
    }

    TEST_CASE("the driver signs with the card's end-entity certificate and includes the chain on request")
    {
        const SoftwareCard card = makeCard("signer");
        const SoftwareCard ca = makeCard("issuing CA", true);
        CardSummary summary;
        for (const auto& [id, der] : {std::pair{"ca", ca.certificate}, std::pair{"sign", card.certificate}}) {
            CertificateSummary listed;
            listed.id = id;
            listed.der = der;
            summary.certificates.push_back(listed);
        }

        const formats::SignerCertificates plain = formats::chooseSigner(summary, std::nullopt, false);
        CHECK(plain.id == "sign");
        CHECK(plain.chain.empty());
        CHECK(formats::chooseSigner(summary, std::nullopt, true).chain.size() == 1);
        CHECK_THROWS_AS(formats::chooseSigner(summary, std::string("nope"), false), Error);

        int signatures = 0;
        formats::CardSigner signer;
        signer.card = [&](Completion<CardSummary> done) { done(summary); };
        signer.sign = [&](SignRequest request, Completion<SignResult> done) {
            ++signatures;
            CHECK(request.certificateId == std::optional<std::string>("sign"));
            done(SignResult{cardSign(card.key.get(), request.digestAlgorithm, request.digest), "RSASSA-PKCS1-v1_5-SHA-256",
                            "sign", card.certificate});
        };
        std::optional<Outcome<formats::SignedDocument>> outcome;
        formats::signDocument(std::make_shared<formats::CmsDocument>(bytesOf(kContent), DigestAlgorithm::Sha256, "", 0),
                              {std::nullopt, true}, signer, [&](Outcome<formats::SignedDocument> o) { outcome = std::move(o); });
        REQUIRE(outcome);
        REQUIRE(std::holds_alternative<formats::SignedDocument>(*outcome));
        const auto& result = std::get<formats::SignedDocument>(*outcome);
        CHECK(signatures == 1);
        CHECK(verifies(result.document, kContent));
        CMS_ContentInfo* cms = parse(result.document).release();
        ossl::X509StackPtr certificates(CMS_get1_certs(cms));
        CHECK(sk_X509_num(certificates.get()) == 2);
        CMS_ContentInfo_free(cms);

        // A card refused by the policy is never asked to sign.
        signer.card = [](Completion<CardSummary> done) {
            done(std::make_exception_ptr(Error(ErrorCode::OperationForbidden, "no")));
        };
        outcome.reset();
        formats::signDocument(std::make_shared<formats::CmsDocument>(bytesOf(kContent), DigestAlgorithm::Sha256, "", 0), {},
                              signer, [&](Outcome<formats::SignedDocument> o) { outcome = std::move(o); });
        REQUIRE(outcome);
        CHECK(std::holds_alternative<std::exception_ptr>(*outcome));
        CHECK(signatures == 1);
    }
}
