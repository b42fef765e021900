// inkan — one document signature from start to end: the card's certificate
// is chosen, the format prepares the digest, the card signs it through the
// caller's sign path, and the format assembles the signed document.
//
// The sign path is whatever the caller hands in: the API gives the same card
// access as POST /v1/cards/{cardId}/sign (origin policy, PIN source, PIN
// guard, rate limit, 使用簿), so a document signature is decided exactly like
// a digest signature. Knows no HTTP and no APDU.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/formats/document.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::formats {

struct CardSigner {
    /// The card, once the caller may sign with it (no APDU).
    std::function<void(Completion<CardSummary>)> card;
    /// Signs `request` (digest, algorithm, certificate id; the caller adds the PIN).
    std::function<void(SignRequest request, Completion<SignResult>)> sign;
};

struct DocumentSignOptions {
    /// The certificate id whose key signs; none: the card's signing certificate.
    std::optional<std::string> certificateId;
    /// Put the card's CA certificates into the signature with the signer's.
    bool includeChain = false;
};

struct SignedDocument {
    Bytes document;                  // the format's result (a .p7s, a PDF, a kousei.xml)
    std::string signatureAlgorithm;  // the card's, e.g. "RSASSA-PKCS1-v1_5-SHA-256"
    std::string certificateId;
    Bytes certificate;               // DER
    DocumentDescription description;
};

/// The certificate that signs and the chain to include. `requested`: that
/// certificate (NOT_FOUND when the card has none by that id); none: the card's
/// only end-entity certificate, or the one with id "sign" among several (else
/// BAD_REQUEST asking for "certificate"). The chain is the card's CA
/// certificates when `includeChain`.
SignerCertificates chooseSigner(const CardSummary& card, const std::optional<std::string>& requested, bool includeChain);

/// Runs the steps above; `done` hears the signed document or the first
/// failure (the card is not asked when an earlier step fails). `format` must
/// have been built already (its DOCUMENT_INVALID comes before this call).
void signDocument(std::shared_ptr<DocumentFormat> format, DocumentSignOptions options, CardSigner signer,
                  Completion<SignedDocument> done);

}  // namespace inkan::formats
