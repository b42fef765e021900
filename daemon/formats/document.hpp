// inkan — a document format: what inkand builds around a card signature so
// that the result is what a portal accepts (docs/formats.md). A format knows
// no HTTP and no APDU: it is given the document and the signer's
// certificates, tells which digest the card must sign, and assembles the
// signed result from the card's raw signature.
//
// The order is fixed (daemon/formats/document_signing.hpp drives it):
//   1. the format is built from the request's document; a document that
//      cannot be signed throws DOCUMENT_INVALID here, before any card access;
//   2. prepare(signer) once the signing certificate is known: the digest the
//      card signs (PKCS#1 v1.5 over its DigestInfo);
//   3. finish(signature) with the card's signature: the signed document.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/card/types.hpp"

namespace inkan::formats {

/// The certificate whose key signs, and the certificates that may go with it.
struct SignerCertificates {
    std::string id;           // the card's id of the certificate, e.g. "sign"
    Bytes certificate;        // DER, exactly as read from the card
    std::vector<Bytes> chain; // DER, issuers to include (may be empty)
};

/// What is being signed, as the person signing should see it.
struct DocumentDescription {
    std::string format;        // "cms", "pdf", "egov"
    std::string name;          // a file name when the caller gave one, else empty
    std::uint64_t size = 0;    // bytes
    std::string sha256;        // lower-case hex of the document's SHA-256
    std::optional<int> pages;  // a PDF's page count
    std::string procedure;     // e-Gov: 手続名称
    std::string applicant;     // e-Gov: 申請者 (法人団体名 and 氏名)
};

class DocumentFormat {
public:
    virtual ~DocumentFormat() = default;

    virtual const DocumentDescription& description() const = 0;
    /// The digest algorithm of the card's signature.
    virtual DigestAlgorithm digestAlgorithm() const = 0;
    /// The digest the card is to sign, with `signer`'s key. Called once.
    virtual Bytes prepare(const SignerCertificates& signer) = 0;
    /// The signed document, from the card's signature over prepare()'s digest
    /// (RSASSA-PKCS1-v1_5). Throws Internal when the signature does not verify
    /// with the signer's certificate. Called once, after prepare().
    virtual Bytes finish(const Bytes& signature) = 0;
};

/// What is signed, for the PIN dialog: several lines, built only from what
/// inkand computed or read in the document itself, except the file name,
/// which the caller chose and is marked as such. Control characters in the
/// texts are replaced, so no text can add lines of its own.
std::string dialogText(const DocumentDescription& description);

/// The same in one line, for the 使用簿 record's `target`.
std::string ledgerText(const DocumentDescription& description);

/// The digest of `data` with `algorithm`.
Bytes digestOf(DigestAlgorithm algorithm, const std::uint8_t* data, std::size_t size);
inline Bytes digestOf(DigestAlgorithm algorithm, const Bytes& data) { return digestOf(algorithm, data.data(), data.size()); }

/// Lower-case hex of SHA-256 over `data`.
std::string sha256Hex(const std::uint8_t* data, std::size_t size);

}  // namespace inkan::formats
