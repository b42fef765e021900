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
#include "tests/unit/software_card.hpp"

using namespace inkan;
using namespace inkan::testing;

namespace {

using CmsPtr = ossl::Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;

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
