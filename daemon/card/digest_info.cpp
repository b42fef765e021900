#include "daemon/card/digest_info.hpp"

#include <string>

#include "daemon/error.hpp"

namespace inkan::card {

namespace {

pcsc::ByteView prefix(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return kDigestInfoPrefixSha256;
    case DigestAlgorithm::Sha384: return kDigestInfoPrefixSha384;
    case DigestAlgorithm::Sha512: return kDigestInfoPrefixSha512;
    }
    throw Error(ErrorCode::UnsupportedAlgorithm, "unsupported digest algorithm");
}

}  // namespace

std::string_view digestAlgorithmName(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return "SHA-256";
    case DigestAlgorithm::Sha384: return "SHA-384";
    case DigestAlgorithm::Sha512: return "SHA-512";
    }
    throw Error(ErrorCode::UnsupportedAlgorithm, "unsupported digest algorithm");
}

std::size_t digestLength(DigestAlgorithm algorithm)
{
    switch (algorithm) {
    case DigestAlgorithm::Sha256: return 32;
    case DigestAlgorithm::Sha384: return 48;
    case DigestAlgorithm::Sha512: return 64;
    }
    throw Error(ErrorCode::UnsupportedAlgorithm, "unsupported digest algorithm");
}

Bytes digestInfo(DigestAlgorithm algorithm, pcsc::ByteView digest)
{
    const auto expected = digestLength(algorithm);
    if (digest.size() != expected) {
        throw Error(ErrorCode::BadRequest, "a " + std::string(digestAlgorithmName(algorithm)) + " digest has "
                                               + std::to_string(expected) + " bytes, not "
                                               + std::to_string(digest.size()));
    }
    const auto head = prefix(algorithm);
    Bytes out;
    out.reserve(head.size() + digest.size());
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), digest.begin(), digest.end());
    return out;
}

}  // namespace inkan::card
