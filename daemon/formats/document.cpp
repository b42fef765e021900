// inkan — digests shared by the document formats.
#include "daemon/formats/document.hpp"

#include <openssl/evp.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/hex.hpp"

namespace inkan::formats {

Bytes digestOf(DigestAlgorithm algorithm, const std::uint8_t* data, std::size_t size)
{
    const EVP_MD* md = algorithm == DigestAlgorithm::Sha512   ? EVP_sha512()
                       : algorithm == DigestAlgorithm::Sha384 ? EVP_sha384()
                                                              : EVP_sha256();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data, size, digest, &length, md, nullptr) != 1) throw Error(ErrorCode::Internal, "digest failed");
    return Bytes(digest, digest + length);
}

std::string sha256Hex(const std::uint8_t* data, std::size_t size)
{
    return hexEncode(digestOf(DigestAlgorithm::Sha256, data, size));
}

}  // namespace inkan::formats
