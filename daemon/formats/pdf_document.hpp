// inkan — the `pdf` format: the PDF signed with an incremental update, as
// 登記・供託オンライン申請 accepts it (docs/formats.md "pdf"): a signature field
// on page 1 (invisible unless asked for a stamp), a signature dictionary
// /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached whose
// /Contents holds the detached CMS SignedData (cms_signed_data.hpp, SHA-256)
// over the /ByteRange, and the AcroForm naming the field with /SigFlags 3.
//
// qpdf parses the document (xref tables and streams, object streams, forms,
// existing signatures) and serializes every new or changed object;
// pdf_incremental.hpp appends them after the original's last byte, so
// nothing before the original %%EOF changes and earlier signatures stay valid.
#pragma once

#include <ctime>
#include <memory>
#include <string>

#include "daemon/formats/document.hpp"

namespace inkan::formats {

struct PdfSignatureOptions {
    std::string reason;    // /Reason, when not empty
    std::string location;  // /Location, when not empty
    /// A stamp on page 1 with 商号, 氏名 (from the certificate) and 日時;
    /// false: an invisible field (/Rect [0 0 0 0]).
    bool visible = false;
};

class PdfDocument : public DocumentFormat {
public:
    /// Parses `pdf` right away; throws DOCUMENT_INVALID (not a PDF, damaged,
    /// encrypted, no pages, certified against changes) before any card access.
    PdfDocument(Bytes pdf, std::string name, PdfSignatureOptions options, std::time_t signingTime);
    ~PdfDocument() override;

    const DocumentDescription& description() const override;
    /// Always SHA-256 (the profile's).
    DigestAlgorithm digestAlgorithm() const override { return DigestAlgorithm::Sha256; }
    /// Builds the incremental update with a /Contents placeholder sized for
    /// `signer`'s CMS, digests the /ByteRange and answers the CMS's
    /// signed-attributes digest.
    Bytes prepare(const SignerCertificates& signer) override;
    /// The CMS with `signature`, written into /Contents: the signed PDF.
    Bytes finish(const Bytes& signature) override;

private:
    Bytes prepareUpdate(const SignerCertificates& signer);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace inkan::formats
