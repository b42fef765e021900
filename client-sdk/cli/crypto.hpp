// inkan CLI — the little local cryptography the client does: hashing the
// document before it is signed, base64, and DER/PEM certificates. OpenSSL
// objects live in unique_ptrs with their free functions; nothing else frees.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base64.hpp"

namespace inkan::cli {

using Bytes = std::vector<std::uint8_t>;

/// The API's digest algorithm names ("SHA-256", "SHA-384", "SHA-512").
const std::vector<std::string>& digestAlgorithms();

/// Hashes a file in chunks (any size, constant memory). Failure(LocalIo) if
/// it cannot be read.
Bytes hashFile(const std::filesystem::path& path, std::string_view algorithm);

// base64 is inkand's own (daemon/base64.hpp, OpenSSL's EVP encoder), one for both.
using inkan::base64Decode;
using inkan::base64Encode;

/// A parsed X.509 certificate.
class Certificate {
public:
    /// Failure(ApiError) if `der` is not one certificate.
    static Certificate fromDer(const Bytes& der);
    /// Every certificate of a PEM text (certutil -a output); unparsable text yields none.
    static std::vector<Certificate> allFromPem(std::string_view pem);

    const Bytes& der() const noexcept { return der_; }
    std::string pem() const;
    /// A CA certificate (basicConstraints cA, RFC 5280 §4.2.1.9).
    bool isCa() const;
    /// "AB:CD:…" SHA-256 of the DER, as browsers and certutil show it.
    std::string sha256Fingerprint() const;
    bool operator==(const Certificate& other) const { return der_ == other.der_; }

private:
    explicit Certificate(Bytes der) : der_(std::move(der)) {}
    Bytes der_;
};

}  // namespace inkan::cli
