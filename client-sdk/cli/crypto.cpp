#include "client-sdk/cli/crypto.hpp"

#include <cerrno>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"

namespace inkan::cli {
namespace {

struct EvpMdCtxFree { void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); } };
struct EvpMdFree { void operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); } };
struct BioFree { void operator()(BIO* p) const noexcept { BIO_free(p); } };
struct X509Free { void operator()(X509* p) const noexcept { X509_free(p); } };
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree>;
using EvpMd = std::unique_ptr<EVP_MD, EvpMdFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

constexpr std::size_t kHashChunk = 64 * 1024;

// API name -> OpenSSL name. The API's names are the ones of the IANA hash
// function textual names registry (RFC 6920 §9.4) in upper case.
struct DigestName {
    const char* api;
    const char* openssl;
};
constexpr DigestName kDigestNames[] = {{"SHA-256", "SHA256"}, {"SHA-384", "SHA384"}, {"SHA-512", "SHA512"}};

X509Ptr parseDer(const Bytes& der)
{
    const unsigned char* cursor = der.data();
    X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    // Trailing bytes after the certificate are as wrong as a broken one.
    if (certificate && cursor != der.data() + der.size()) certificate.reset();
    return certificate;
}

}  // namespace

const std::vector<std::string>& digestAlgorithms()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> all;
        for (const DigestName& name : kDigestNames) all.emplace_back(name.api);
        return all;
    }();
    return names;
}

Bytes hashFile(const std::filesystem::path& path, std::string_view algorithm)
{
    const char* opensslName = nullptr;
    for (const DigestName& name : kDigestNames)
        if (algorithm == name.api) opensslName = name.openssl;
    if (opensslName == nullptr) throw Failure(ExitCode::Usage, "unknown digest algorithm " + std::string(algorithm));

    EvpMd md(EVP_MD_fetch(nullptr, opensslName, nullptr));
    EvpMdCtx context(EVP_MD_CTX_new());
    if (!md || !context || EVP_DigestInit_ex2(context.get(), md.get(), nullptr) != 1) {
        throw Failure(ExitCode::LocalIo, "OpenSSL cannot compute " + std::string(algorithm));
    }
    FileDescriptor fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) throw Failure(ExitCode::LocalIo, "cannot read " + path.string() + ": " + systemReason());
    std::vector<unsigned char> chunk(kHashChunk);
    for (;;) {
        ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Failure(ExitCode::LocalIo, "cannot read " + path.string() + ": " + systemReason());
        if (n == 0) break;
        if (EVP_DigestUpdate(context.get(), chunk.data(), static_cast<std::size_t>(n)) != 1) {
            throw Failure(ExitCode::LocalIo, "OpenSSL failed while hashing " + path.string());
        }
    }
    Bytes digest(static_cast<std::size_t>(EVP_MD_get_size(md.get())));
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size()) {
        throw Failure(ExitCode::LocalIo, "OpenSSL failed while hashing " + path.string());
    }
    return digest;
}

Certificate Certificate::fromDer(const Bytes& der)
{
    if (!parseDer(der)) throw Failure(ExitCode::ApiError, "inkand sent a certificate that is not valid DER");
    return Certificate(der);
}

std::vector<Certificate> Certificate::allFromPem(std::string_view pem)
{
    std::vector<Certificate> certificates;
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return certificates;
    while (X509Ptr certificate{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
        int length = i2d_X509(certificate.get(), nullptr);
        if (length <= 0) break;
        Bytes der(static_cast<std::size_t>(length));
        unsigned char* cursor = der.data();
        i2d_X509(certificate.get(), &cursor);
        certificates.push_back(Certificate(std::move(der)));
    }
    return certificates;
}

std::string Certificate::pem() const
{
    X509Ptr certificate = parseDer(der_);
    Bio bio(BIO_new(BIO_s_mem()));
    if (!certificate || !bio || PEM_write_bio_X509(bio.get(), certificate.get()) != 1) {
        throw Failure(ExitCode::LocalIo, "OpenSSL cannot write the certificate as PEM");
    }
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

bool Certificate::isCa() const
{
    X509Ptr certificate = parseDer(der_);
    return certificate && X509_check_ca(certificate.get()) >= 1;
}

std::string Certificate::sha256Fingerprint() const
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(der_.data(), der_.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw Failure(ExitCode::LocalIo, "OpenSSL cannot compute SHA-256");
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        if (i > 0) text += ':';
        text += kHex[digest[i] >> 4];
        text += kHex[digest[i] & 0x0F];
    }
    return text;
}

}  // namespace inkan::cli
