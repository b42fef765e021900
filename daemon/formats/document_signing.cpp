// inkan — one document signature from start to end.
#include "daemon/formats/document_signing.hpp"

#include <exception>
#include <utility>

#include <openssl/x509v3.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"

namespace inkan::formats {

namespace {

/// The card's default signing certificate id where a card has several
/// end-entity certificates (the reference card's and JPKI's naming).
constexpr std::string_view kSigningCertificateId = "sign";

/// The signature algorithms whose signatures the formats can carry (the
/// card's names, SignResult::signatureAlgorithm).
constexpr std::string_view kRsaPkcs1Prefix = "RSASSA-PKCS1-v1_5-";

bool isCa(const Bytes& der)
{
    const unsigned char* cursor = der.data();
    ossl::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    return certificate && X509_check_ca(certificate.get()) != 0;
}

template <class T>
void fail(const Completion<T>& done)
{
    done(std::current_exception());
}

}  // namespace

SignerCertificates chooseSigner(const CardSummary& card, const std::optional<std::string>& requested, bool includeChain)
{
    const CertificateSummary* chosen = nullptr;
    // The card names its signing key (CardSummary::signingCertificateId): a
    // request without `certificate` signs with that one, as POST .../sign does.
    const std::optional<std::string> wanted =
        requested ? requested : card.signingCertificateId.empty() ? std::nullopt : std::optional(card.signingCertificateId);
    if (wanted) {
        for (const auto& certificate : card.certificates) {
            if (certificate.id == *wanted) chosen = &certificate;
        }
        if (!chosen) throw Error(ErrorCode::NotFound, "the card has no certificate with this id");
    } else {
        std::vector<const CertificateSummary*> endEntities;
        for (const auto& certificate : card.certificates) {
            if (!isCa(certificate.der)) endEntities.push_back(&certificate);
        }
        if (endEntities.size() == 1) {
            chosen = endEntities.front();
        } else {
            for (const auto* certificate : endEntities) {
                if (certificate->id == kSigningCertificateId) chosen = certificate;
            }
        }
        if (!chosen) throw Error(ErrorCode::BadRequest, "the card has several certificates: name one in 'certificate'");
    }

    if (!chosen->readable) {
        // The JPKI signing certificate: the document's signed attributes name
        // it, so it must be read first, which its PIN's verification does.
        throw Error(ErrorCode::PinRequired, "the card shows this certificate only after PIN '" +
                                                chosen->readAfterPin.value_or("") +
                                                "' is verified: verify it (POST .../pins/{pinId}/verify), then sign");
    }
    SignerCertificates signer{chosen->id, chosen->der, {}};
    if (includeChain) {
        for (const auto& certificate : card.certificates) {
            if (&certificate != chosen && isCa(certificate.der)) signer.chain.push_back(certificate.der);
        }
    }
    return signer;
}

void signDocument(std::shared_ptr<DocumentFormat> format, DocumentSignOptions options, CardSigner signer,
                  Completion<SignedDocument> done)
{
    auto sign = signer.sign;
    signer.card([format = std::move(format), options = std::move(options), sign = std::move(sign),
                 done = std::move(done)](Outcome<CardSummary> outcome) mutable {
        if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) return done(*failure);
        SignRequest request;
        Bytes certificate;
        try {
            const SignerCertificates chosen = chooseSigner(std::get<CardSummary>(outcome), options.certificateId,
                                                           options.includeChain);
            request.certificateId = chosen.id;
            request.digestAlgorithm = format->digestAlgorithm();
            request.digest = format->prepare(chosen);
            certificate = chosen.certificate;
        } catch (...) {
            return fail(done);
        }
        sign(std::move(request), [format, certificate = std::move(certificate), done](Outcome<SignResult> signed_) {
            if (auto* failure = std::get_if<std::exception_ptr>(&signed_)) return done(*failure);
            SignedDocument result;
            try {
                auto& card = std::get<SignResult>(signed_);
                if (card.certificate != certificate) {
                    throw Error(ErrorCode::Internal, "the card signed with another certificate than the one prepared");
                }
                if (!card.signatureAlgorithm.starts_with(kRsaPkcs1Prefix)) {
                    throw Error(ErrorCode::UnsupportedAlgorithm,
                                "document formats need RSASSA-PKCS1-v1_5; the card signed with " + card.signatureAlgorithm);
                }
                result.document = format->finish(card.signature);
                result.signatureAlgorithm = std::move(card.signatureAlgorithm);
                result.certificateId = std::move(card.certificateId);
                result.certificate = std::move(card.certificate);
                result.description = format->description();
            } catch (...) {
                return fail(done);
            }
            done(std::move(result));
        });
    });
}

}  // namespace inkan::formats
