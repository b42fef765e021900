// inkan — a detached CMS SignedData whose signature comes from the card.
#include "daemon/formats/cms_signed_data.hpp"

#include <string>
#include <vector>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"

namespace inkan::formats {

namespace {

// The signed attributes as they are signed: the DER of a SET OF Attribute
// with its own SET tag, not the IMPLICIT [0] of the SignerInfo (RFC 5652
// §5.4). ASN1_TFLG_SET_ORDER sorts the SET into DER order, as OpenSSL's own
// CMS code does for the same purpose.
using SignedAttributes = STACK_OF(X509_ATTRIBUTE);
ASN1_ITEM_TEMPLATE(InkanSignedAttributes) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_ORDER, 0, InkanSignedAttributes, X509_ATTRIBUTE)
ASN1_ITEM_TEMPLATE_END(InkanSignedAttributes)

using CmsPtr = ossl::Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;
using X509AttributePtr = ossl::Ptr<X509_ATTRIBUTE, X509_ATTRIBUTE_free>;

void attributeStackFree(SignedAttributes* stack) { sk_X509_ATTRIBUTE_free(stack); }  // the attributes stay the SignerInfo's
using AttributeViewPtr = ossl::Ptr<SignedAttributes, attributeStackFree>;

[[noreturn]] void fail(ErrorCode code, const std::string& what)
{
    const unsigned long detail = ERR_get_error();
    ERR_clear_error();
    std::string message = what;
    if (detail != 0) {
        char reason[256];
        ERR_error_string_n(detail, reason, sizeof reason);
        message += " (" + std::string(reason) + ")";
    }
    throw Error(code, message);
}

const EVP_MD* mdOf(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return EVP_sha256();
    case DigestAlgorithm::Sha384: return EVP_sha384();
    case DigestAlgorithm::Sha512: return EVP_sha512();
    }
    return EVP_sha256();
}

ossl::X509Ptr parseCertificate(const Bytes& der)
{
    const unsigned char* cursor = der.data();
    ossl::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate || cursor != der.data() + der.size()) fail(ErrorCode::BadRequest, "a certificate of the card cannot be parsed");
    return certificate;
}

}  // namespace

struct CmsSignedData::Impl {
    CmsPtr cms;
    CMS_SignerInfo* signerInfo = nullptr;  // owned by cms
    Bytes toBeSigned;
};

CmsSignedData::CmsSignedData(const Bytes& contentDigest, DigestAlgorithm algorithm, const SignerCertificates& signer,
                             std::time_t signingTime)
    : impl_(std::make_unique<Impl>())
{
    ERR_clear_error();
    ossl::X509Ptr certificate = parseCertificate(signer.certificate);
    // The card's public key stands in for its private key: OpenSSL checks
    // that it matches the certificate and sets the signature algorithm from
    // it; CMS_PARTIAL keeps OpenSSL from signing.
    ossl::EvpPkeyPtr publicKey(X509_get_pubkey(certificate.get()));
    if (!publicKey) fail(ErrorCode::BadRequest, "the signing certificate's key cannot be read");
    if (!EVP_PKEY_is_a(publicKey.get(), "RSA")) {
        throw Error(ErrorCode::UnsupportedAlgorithm, "document signatures need an RSA key; the certificate's key is not RSA");
    }

    constexpr unsigned int kFlags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
    impl_->cms.reset(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
    if (!impl_->cms) fail(ErrorCode::Internal, "CMS SignedData could not be created");
    // CMS_CADES adds signingCertificateV2 over the certificate with the signature's digest.
    impl_->signerInfo = CMS_add1_signer(impl_->cms.get(), certificate.get(), publicKey.get(), mdOf(algorithm),
                                        kFlags | CMS_CADES);
    if (!impl_->signerInfo) fail(ErrorCode::Internal, "the CMS SignerInfo could not be created");
    for (const Bytes& der : signer.chain) {
        ossl::X509Ptr issuer = parseCertificate(der);
        if (CMS_add1_cert(impl_->cms.get(), issuer.get()) != 1) fail(ErrorCode::Internal, "a chain certificate could not be added");
    }

    // RFC 5652 §11.1 contentType (id-data, the detached content's type),
    // §11.3 signingTime (UTCTime until 2049, as §11.3 requires), §11.2 messageDigest.
    CMS_SignerInfo* si = impl_->signerInfo;
    if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1) {
        fail(ErrorCode::Internal, "contentType could not be added");
    }
    ossl::Asn1TimePtr time(ASN1_TIME_adj(nullptr, signingTime, 0, 0));
    if (!time || CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, time->type, time.get(), -1) != 1) {
        fail(ErrorCode::Internal, "signingTime could not be added");
    }
    if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, contentDigest.data(),
                                    static_cast<int>(contentDigest.size())) != 1) {
        fail(ErrorCode::Internal, "messageDigest could not be added");
    }

    AttributeViewPtr attributes(sk_X509_ATTRIBUTE_new_null());
    if (!attributes) fail(ErrorCode::Internal, "out of memory");
    for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
        sk_X509_ATTRIBUTE_push(attributes.get(), CMS_signed_get_attr(si, i));
    }
    unsigned char* der = nullptr;
    const int length = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(attributes.get()), &der,
                                     ASN1_ITEM_rptr(InkanSignedAttributes));
    ossl::OpensslBytesPtr owned(der);
    if (length <= 0) fail(ErrorCode::Internal, "the signed attributes could not be encoded");
    impl_->toBeSigned = digestOf(algorithm, der, static_cast<std::size_t>(length));

    // The encoding sorted `attributes` into DER order; the SignerInfo keeps
    // them in that order too, so that OpenSSL's verification (which encodes
    // them as they are held) sees the bytes that were signed.
    std::vector<X509AttributePtr> sorted;
    for (int i = 0; i < sk_X509_ATTRIBUTE_num(attributes.get()); ++i) {
        sorted.emplace_back(X509_ATTRIBUTE_dup(sk_X509_ATTRIBUTE_value(attributes.get(), i)));
        if (!sorted.back()) fail(ErrorCode::Internal, "out of memory");
    }
    attributes.reset();
    while (CMS_signed_get_attr_count(si) > 0) X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, 0));
    for (const auto& attribute : sorted) {
        if (CMS_signed_add1_attr(si, attribute.get()) != 1) fail(ErrorCode::Internal, "the signed attributes could not be set");
    }
}

CmsSignedData::~CmsSignedData() = default;

const Bytes& CmsSignedData::toBeSigned() const noexcept { return impl_->toBeSigned; }

std::size_t CmsSignedData::encodedSize(std::size_t signatureSize)
{
    const Bytes placeholder(signatureSize, 0xFF);
    ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(impl_->signerInfo);
    if (ASN1_OCTET_STRING_set(value, placeholder.data(), static_cast<int>(placeholder.size())) != 1) {
        fail(ErrorCode::Internal, "the signature could not be set");
    }
    const int length = i2d_CMS_ContentInfo(impl_->cms.get(), nullptr);
    if (length <= 0) fail(ErrorCode::Internal, "the CMS SignedData could not be encoded");
    return static_cast<std::size_t>(length);
}

Bytes CmsSignedData::finish(const Bytes& signature)
{
    ERR_clear_error();
    ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(impl_->signerInfo);
    if (ASN1_OCTET_STRING_set(value, signature.data(), static_cast<int>(signature.size())) != 1) {
        fail(ErrorCode::Internal, "the signature could not be set");
    }
    // Re-encodes the signed attributes and checks the signature with the
    // certificate's key: a card that signed with another key is caught here.
    if (CMS_SignerInfo_verify(impl_->signerInfo) != 1) {
        fail(ErrorCode::Internal, "the card's signature does not verify with the signing certificate");
    }
    unsigned char* der = nullptr;
    const int length = i2d_CMS_ContentInfo(impl_->cms.get(), &der);
    ossl::OpensslBytesPtr owned(der);
    if (length <= 0) fail(ErrorCode::Internal, "the CMS SignedData could not be encoded");
    return Bytes(der, der + length);
}

}  // namespace inkan::formats
