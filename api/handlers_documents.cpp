#include "api/handlers_documents.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "api/answer.hpp"
#include "daemon/base64.hpp"
#include "api/handlers.hpp"
#include "api/json_mapping.hpp"
#include "api/policy.hpp"
#include "api/problem.hpp"
#include "daemon/formats/cms_document.hpp"
#include "daemon/formats/document_signing.hpp"
#include "daemon/formats/egov_document.hpp"
#include "daemon/formats/pdf_document.hpp"

namespace inkan::api {

namespace {

constexpr std::string_view kCardsPrefix = "/v1/cards/";
constexpr std::string_view kSignaturesSuffix = "/signatures";
constexpr std::string_view kDefaultDigestAlgorithm = "SHA-256";
/// The longest /Reason and /Location a PDF signature takes (UTF-8 bytes).
constexpr std::size_t kMaxPdfText = 500;

Error badField(std::string_view field, std::string_view what)
{
    return Error(ErrorCode::BadRequest, "field '" + std::string(field) + "' " + std::string(what));
}

Error tooLarge()
{
    return Error(ErrorCode::PayloadTooLarge,
                 "the document is larger than " + std::to_string(kMaxDocumentBytes / (1024 * 1024)) + " MiB");
}

/// Base64 `text` of field `field`, decoded; empty or over kMaxDocumentBytes is refused.
Bytes decodedDocument(std::string_view text, std::string_view field)
{
    auto bytes = base64Decode(text);
    if (!bytes) throw badField(field, "must be standard base64 with padding");
    if (bytes->empty()) throw badField(field, "must not be empty");
    if (bytes->size() > kMaxDocumentBytes) throw tooLarge();
    return std::move(*bytes);
}

Bytes documentField(const JsonBody& body, std::string_view field)
{
    return decodedDocument(body.requiredSecret(field).view(), field);
}

/// "files": [{"name", "content"}] of the e-Gov package.
std::vector<formats::EgovFile> egovFiles(const JsonBody& body)
{
    const auto* items = body.optionalObjectArray("files");
    if (!items) throw badField("files", "is required: the application files kousei.xml names");
    std::vector<formats::EgovFile> files;
    std::size_t total = 0;
    for (const auto& item : *items) {
        const auto name = item.find("name");
        const auto content = item.find("content");
        if (name == item.end() || content == item.end()) throw badField("files", "items must have string 'name' and 'content'");
        formats::EgovFile file{std::string(name->second.view()), decodedDocument(content->second.view(), "files[].content")};
        total += file.content.size();
        if (total > kMaxDocumentBytes) throw tooLarge();
        files.push_back(std::move(file));
    }
    return files;
}

DigestAlgorithm digestAlgorithmOf(const JsonBody& body)
{
    const std::string name = body.optionalString("digestAlgorithm").value_or(std::string(kDefaultDigestAlgorithm));
    const auto algorithm = digestAlgorithmFromName(name);
    if (!algorithm) {
        throw Error(ErrorCode::UnsupportedAlgorithm, "field 'digestAlgorithm' must be one of SHA-256, SHA-384, SHA-512");
    }
    return *algorithm;
}

/// The format named by the body, built from its document (DOCUMENT_INVALID
/// and every input error come from here, before any card access).
std::shared_ptr<formats::DocumentFormat> formatOf(const JsonBody& body)
{
    const std::string format = body.requiredString("format");
    const std::string name = body.optionalString("name").value_or("");
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    if (format == "cms") {
        return std::make_shared<formats::CmsDocument>(documentField(body, "content"), digestAlgorithmOf(body), name, now);
    }
    if (format == "pdf") {
        if (body.optionalString("digestAlgorithm").value_or("SHA-256") != "SHA-256") {
            throw Error(ErrorCode::UnsupportedAlgorithm, "the pdf format signs with SHA-256 only");
        }
        formats::PdfSignatureOptions options;
        options.reason = body.optionalString("reason").value_or("");
        options.location = body.optionalString("location").value_or("");
        if (options.reason.size() > kMaxPdfText) throw badField("reason", "is too long");
        if (options.location.size() > kMaxPdfText) throw badField("location", "is too long");
        options.visible = body.optionalBool("visible").value_or(false);
        return std::make_shared<formats::PdfDocument>(documentField(body, "content"), name, std::move(options), now);
    }
    if (format == "egov") {
        if (body.optionalString("digestAlgorithm").value_or("SHA-256") != "SHA-256") {
            throw Error(ErrorCode::UnsupportedAlgorithm, "the egov format signs with SHA-256 only");
        }
        return std::make_shared<formats::EgovDocument>(documentField(body, "kousei"), egovFiles(body));
    }
    throw Error(ErrorCode::UnsupportedFormat, "field 'format' must be \"cms\", \"pdf\" or \"egov\"");
}

Json descriptionJson(const formats::DocumentDescription& description)
{
    Json document{{"size", description.size}, {"sha256", description.sha256}};
    if (!description.name.empty()) document["name"] = description.name;
    if (description.pages) document["pages"] = *description.pages;
    if (!description.procedure.empty()) document["procedure"] = description.procedure;
    if (!description.applicant.empty()) document["applicant"] = description.applicant;
    return document;
}

Response signedJson(const formats::SignedDocument& signedDocument)
{
    Json body{{"format", signedDocument.description.format}};
    // The format's result under the name its request used for the document.
    const std::string& format = signedDocument.description.format;
    body[format == "cms" ? "signature" : format == "egov" ? "kousei" : "content"] = base64Encode(signedDocument.document);
    body["signatureAlgorithm"] = signedDocument.signatureAlgorithm;
    body["certificateId"] = signedDocument.certificateId;
    body["certificate"] = base64Encode(signedDocument.certificate);
    body["document"] = descriptionJson(signedDocument.description);
    return jsonResponse(body);
}

}  // namespace

bool takesDocument(std::string_view method, std::string_view path)
{
    if (method != "POST" || !path.starts_with(kCardsPrefix) || !path.ends_with(kSignaturesSuffix)) return false;
    const std::string_view cardId = path.substr(kCardsPrefix.size(), path.size() - kCardsPrefix.size() - kSignaturesSuffix.size());
    return !cardId.empty() && cardId.find('/') == std::string_view::npos;
}

void registerDocumentRoutes(Router& router, security::CardAccess& access, audit::AuditedCardAccess* audited)
{
    router.add("POST", "/v1/cards/{cardId}/signatures", [&access, audited](const RequestContext& context, Respond respond) {
        const JsonBody body = JsonBody::parse(context.request.body);
        auto format = formatOf(body);
        formats::DocumentSignOptions options;
        options.certificateId = body.optionalString("certificate");
        if (options.certificateId && options.certificateId->empty()) throw badField("certificate", "must not be empty");
        options.includeChain = body.optionalBool("includeChain").value_or(false);

        const security::Principal principal = principalOf(context.caller);
        const std::string cardId = context.params.at(0);
        // What is signed, as inkand read it, for the PIN dialog and the 使用簿.
        security::PinRequestOptions pinOptions = pinOptionsOf(body);
        pinOptions.document = formats::dialogText(format->description());
        // The PIN is taken once, by the one signature this request makes.
        auto pin = std::make_shared<std::optional<Secret>>(body.optionalSecret("pin"));
        std::optional<audit::RequestInfo> info;
        if (audited) {
            info = requestInfoOf(context, respond);
            info->document = formats::ledgerText(format->description());
        }

        formats::CardSigner signer;
        signer.card = [&access, principal, cardId](Completion<CardSummary> done) {
            access.authorize(principal, cardId, security::Operation::Sign, std::move(done));
        };
        signer.sign = [&access, audited, principal, info, cardId, pinOptions, pin](SignRequest request,
                                                                                   Completion<SignResult> done) {
            if (*pin) request.pin = std::move(**pin);
            pin->reset();
            if (audited) {
                audited->sign(principal, *info, cardId, std::move(request), pinOptions, std::move(done));
            } else {
                access.sign(principal, cardId, std::move(request), pinOptions, std::move(done));
            }
        };
        formats::signDocument(std::move(format), std::move(options), std::move(signer),
                              answer<formats::SignedDocument>(std::move(respond), signedJson));
    });
}

}  // namespace inkan::api
