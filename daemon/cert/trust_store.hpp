// inkan — the certificates chains are built from: trust anchors (self-signed
// roots) and intermediates / link certificates (everything else).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::cert {

class TrustStore {
public:
    /// Load every *.pem, *.crt and *.cer file (PEM with one or more
    /// certificates, or one DER certificate) directly in `dir`. Self-signed
    /// certificates become anchors; the rest (intermediates, the registry's
    /// link certificates after a root re-key) are untrusted chain material.
    /// Files that hold no certificate are listed in skippedFiles().
    /// Throws inkan::Error(ErrorCode::Internal) when `dir` cannot be read.
    static TrustStore fromDirectory(const std::filesystem::path& dir);

    /// The same from DER certificates held in memory.
    /// Throws inkan::Error(ErrorCode::BadRequest) when one is not a certificate.
    static TrustStore fromCertificates(std::span<const std::vector<std::uint8_t>> ders);

    TrustStore(TrustStore&&) noexcept = default;
    TrustStore& operator=(TrustStore&&) noexcept = default;
    TrustStore(const TrustStore&) = delete;
    TrustStore& operator=(const TrustStore&) = delete;

    std::size_t anchorCount() const { return anchors_.size(); }
    std::size_t intermediateCount() const { return intermediates_.size(); }
    const std::vector<std::string>& skippedFiles() const { return skipped_; }

    /// A fresh X509_STORE holding the anchors, with inkan's verification
    /// callback installed (the registry extensions count as handled).
    ossl::X509StorePtr makeStore() const;

    /// The intermediates, each reference-counted, for a verification's untrusted list.
    ossl::X509StackPtr intermediates() const;

private:
    TrustStore() = default;
    void add(ossl::X509Ptr cert);

    std::vector<ossl::X509Ptr> anchors_;
    std::vector<ossl::X509Ptr> intermediates_;
    std::vector<std::string> skipped_;
};

/// The X509_STORE verification callback inkan uses everywhere (chains and OCSP
/// responder chains): it accepts X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION only
/// when every critical extension OpenSSL does not handle is one of the three
/// commercial registry extensions. Every other error stands.
int verifyCallback(int ok, X509_STORE_CTX* ctx);

}  // namespace inkan::cert
