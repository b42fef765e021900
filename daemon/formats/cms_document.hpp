// inkan — the `cms` format: a detached CMS SignedData (CAdES-BES) over the
// given content (daemon/formats/cms_signed_data.hpp has the profile). The
// result is the DER ContentInfo, what `openssl cms -verify -binary -content
// FILE -inform DER` checks and what a .p7s file holds.
#pragma once

#include <ctime>
#include <memory>

#include "daemon/formats/cms_signed_data.hpp"
#include "daemon/formats/document.hpp"

namespace inkan::formats {

class CmsDocument : public DocumentFormat {
public:
    /// Digests `content` right away (it is not kept). `name` is for the description only.
    CmsDocument(const Bytes& content, DigestAlgorithm algorithm, std::string name, std::time_t signingTime);

    const DocumentDescription& description() const override { return description_; }
    DigestAlgorithm digestAlgorithm() const override { return algorithm_; }
    Bytes prepare(const SignerCertificates& signer) override;
    Bytes finish(const Bytes& signature) override;

private:
    DocumentDescription description_;
    DigestAlgorithm algorithm_;
    Bytes contentDigest_;
    std::time_t signingTime_;
    std::unique_ptr<CmsSignedData> signedData_;
};

}  // namespace inkan::formats
