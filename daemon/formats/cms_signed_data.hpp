// inkan — a detached CMS SignedData (RFC 5652) whose key is on the card,
// built with OpenSSL's CMS API: the SignerInfo and its signed attributes are
// made by OpenSSL, their DER is digested here, the card signs that digest,
// and the signature is set into the SignerInfo. Used by the `cms` format and
// inside the `pdf` one.
//
// Profile (CAdES-BES, ETSI EN 319 122-1 §5.1 and §5.2.2): one SignerInfo
// (issuerAndSerialNumber, version 1), signed attributes contentType (id-data),
// signingTime, messageDigest and signingCertificateV2 (ESS, RFC 5035) over the
// signer's certificate; signatureAlgorithm rsaEncryption; the signer's
// certificate and the optional chain in `certificates`; no content.
#pragma once

#include <ctime>
#include <memory>

#include "daemon/formats/document.hpp"

namespace inkan::formats {

class CmsSignedData {
public:
    /// `contentDigest` is the digest of the (detached) content with `algorithm`.
    /// Throws UnsupportedAlgorithm when the certificate's key is not RSA,
    /// BadRequest when a certificate cannot be parsed.
    CmsSignedData(const Bytes& contentDigest, DigestAlgorithm algorithm, const SignerCertificates& signer,
                  std::time_t signingTime);
    ~CmsSignedData();
    CmsSignedData(const CmsSignedData&) = delete;
    CmsSignedData& operator=(const CmsSignedData&) = delete;

    /// The digest of the DER SET OF signed attributes (RFC 5652 §5.4): what the card signs.
    const Bytes& toBeSigned() const noexcept;

    /// The length of the DER ContentInfo once a signature of `signatureSize`
    /// bytes is in it (an RSA signature is as long as the modulus), for a
    /// container that must reserve room for it (the `pdf` format's /Contents).
    /// Leaves a placeholder signature in the SignerInfo: call it on a trial
    /// object, not on the one finish() is called on.
    std::size_t encodedSize(std::size_t signatureSize);

    /// The DER ContentInfo with `signature` (RSASSA-PKCS1-v1_5 over
    /// toBeSigned()) in its SignerInfo. Throws Internal when the signature
    /// does not verify with the signer's certificate.
    Bytes finish(const Bytes& signature);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace inkan::formats
