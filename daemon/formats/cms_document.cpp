// inkan — the `cms` format.
#include "daemon/formats/cms_document.hpp"

#include "daemon/error.hpp"

namespace inkan::formats {

CmsDocument::CmsDocument(const Bytes& content, DigestAlgorithm algorithm, std::string name, std::time_t signingTime)
    : algorithm_(algorithm), contentDigest_(digestOf(algorithm, content)), signingTime_(signingTime)
{
    description_.format = "cms";
    description_.name = std::move(name);
    description_.size = content.size();
    description_.sha256 = sha256Hex(content.data(), content.size());
}

Bytes CmsDocument::prepare(const SignerCertificates& signer)
{
    signedData_ = std::make_unique<CmsSignedData>(contentDigest_, algorithm_, signer, signingTime_);
    return signedData_->toBeSigned();
}

Bytes CmsDocument::finish(const Bytes& signature)
{
    if (!signedData_) throw Error(ErrorCode::Internal, "cms: finish before prepare");
    return signedData_->finish(signature);
}

}  // namespace inkan::formats
