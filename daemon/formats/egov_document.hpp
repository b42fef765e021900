// inkan — the `egov` format: the XML signature e-Gov 電子申請 expects inside
// the package's 構成管理XML (kousei.xml), over its 構成情報 and the
// application files it names (docs/formats.md has the profile and sources).
//
// The signed kousei.xml is the given bytes with one element inserted right
// after </構成情報>: <署名情報><Signature xmlns="…xmldsig#">…</Signature></署名情報>.
// Every other byte stays as it was. libxml2 parses (no DTD, no entities, no
// network) and canonicalizes (inclusive C14N 1.0); no XML is handled as text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/formats/document.hpp"

namespace inkan::formats {

/// An application file of the package, by its bare file name.
struct EgovFile {
    std::string name;
    Bytes content;
};

class EgovDocument : public DocumentFormat {
public:
    /// Parses and checks `kousei` and digests `files`; throws DOCUMENT_INVALID
    /// (malformed XML, a DOCTYPE, no 構成情報, already signed, a file it does
    /// not name or an application file missing) before any card access.
    EgovDocument(Bytes kousei, std::vector<EgovFile> files);
    ~EgovDocument() override;

    const DocumentDescription& description() const override;
    /// Always SHA-256 (rsa-sha256, the profile's).
    DigestAlgorithm digestAlgorithm() const override { return DigestAlgorithm::Sha256; }
    Bytes prepare(const SignerCertificates& signer) override;
    Bytes finish(const Bytes& signature) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace inkan::formats
