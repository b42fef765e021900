// The egov format with a software key standing in for the card: the
// signature is inserted right after </構成情報> with every other byte kept,
// its SignatureValue verifies over SignedInfo, and bad packages (DOCTYPE,
// malformed, unlisted files) are refused as DOCUMENT_INVALID at construction.
#include <doctest/doctest.h>

#include <string>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/formats/egov_document.hpp"

using namespace inkan;

namespace {

const std::string kKousei =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DataRoot>\n\t<構成情報 ID='構成情報'><!-- c -->"
    "<管理情報><手続名称>手続A</手続名称><申請者連絡先情報><申請者情報><氏名>印鑑 太郎</氏名><法人団体名/></申請者情報>"
    "</申請者連絡先情報></管理情報><申請書属性情報><申請書ファイル名称>app.xml</申請書ファイル名称></申請書属性情報>"
    "</構成情報>\n\t<後>x</後>\n</DataRoot>\n";
const std::string kEnd = "</構成情報>";

Bytes bytesOf(const std::string& text) { return Bytes(text.begin(), text.end()); }

struct Key {
    ossl::EvpPkeyPtr key;
    Bytes certificate;
};

Key makeKey()
{
    Key k;
    k.key.reset(EVP_RSA_gen(2048));
    ossl::X509Ptr x509(X509_new());
    X509_set_version(x509.get(), 2);
    X509_gmtime_adj(X509_getm_notBefore(x509.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
    X509_set_pubkey(x509.get(), k.key.get());
    X509_sign(x509.get(), k.key.get(), EVP_sha256());
    unsigned char* der = nullptr;
    const int length = i2d_X509(x509.get(), &der);
    ossl::OpensslBytesPtr owned(der);
    k.certificate.assign(der, der + length);
    return k;
}

Bytes signDigest(EVP_PKEY* key, const Bytes& digest)
{
    ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(key, nullptr));
    EVP_PKEY_sign_init(context.get());
    EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING);
    EVP_PKEY_CTX_set_signature_md(context.get(), EVP_sha256());
    std::size_t length = 0;
    EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size());
    Bytes signature(length);
    EVP_PKEY_sign(context.get(), signature.data(), &length, digest.data(), digest.size());
    signature.resize(length);
    return signature;
}

void refused(const std::string& kousei, std::vector<formats::EgovFile> files, const std::string& detail)
{
    CAPTURE(detail);
    try {
        formats::EgovDocument document(bytesOf(kousei), std::move(files));
        FAIL("accepted");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::DocumentInvalid);
        CHECK(std::string(error.what()).find(detail) != std::string::npos);
    }
}

}  // namespace

TEST_SUITE("formats egov")
{
    TEST_CASE("the signature goes right after </構成情報> and every other byte stays")
    {
        const Key key = makeKey();
        formats::EgovDocument document(bytesOf(kKousei), {{"app.xml", bytesOf("<a/>")}});
        CHECK(document.description().procedure == "手続A");
        CHECK(document.description().applicant == "印鑑 太郎");
        const Bytes digest = document.prepare({"sign", key.certificate, {}});
        const Bytes signedBytes = document.finish(signDigest(key.key.get(), digest));
        const std::string out(signedBytes.begin(), signedBytes.end());
        const std::size_t end = kKousei.find(kEnd) + kEnd.size();
        CHECK(out.compare(0, end, kKousei, 0, end) == 0);
        CHECK(out.substr(out.size() - (kKousei.size() - end)) == kKousei.substr(end));
        const std::string inserted = out.substr(end, out.size() - kKousei.size());
        CHECK(inserted.rfind("<署名情報><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo>", 0) == 0);
        CHECK(inserted.find("URI=\"#%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1\"") != std::string::npos);
        CHECK(inserted.find("URI=\"app.xml\"") != std::string::npos);
        CHECK(inserted.size() > 0);
        CHECK(inserted.substr(inserted.size() - std::string("</署名情報>").size()) == "</署名情報>");
    }

    TEST_CASE("a signature by another key is caught")
    {
        const Key key = makeKey();
        const Key other = makeKey();
        formats::EgovDocument document(bytesOf(kKousei), {{"app.xml", bytesOf("<a/>")}});
        const Bytes digest = document.prepare({"sign", key.certificate, {}});
        CHECK_THROWS_AS(document.finish(signDigest(other.key.get(), digest)), Error);
    }

    TEST_CASE("bad packages are DOCUMENT_INVALID")
    {
        const std::vector<formats::EgovFile> app{{"app.xml", bytesOf("<a/>")}};
        std::string doctype = kKousei;
        doctype.insert(doctype.find("<DataRoot>"), "<!DOCTYPE DataRoot [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>");
        refused(doctype, app, "DOCTYPE");
        refused("", app, "empty");
        refused(kKousei.substr(0, kKousei.size() - 5), app, "well-formed");
        refused("<DataRoot><x/></DataRoot>", app, "構成情報");
        refused(kKousei, {}, "app.xml");
        refused(kKousei, {{"app.xml", bytesOf("<a/>")}, {"other", bytesOf("x")}}, "other");
        refused(kKousei, {{"app.xml", bytesOf("<a/>")}, {"app.xml", bytesOf("<a/>")}}, "twice");
        refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<DataRoot/>\n", app, "UTF-8");
    }
}
