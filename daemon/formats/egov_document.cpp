// inkan — the `egov` format (e-Gov 構成管理XML signature).
#include "daemon/formats/egov_document.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>

#include <libxml/SAX2.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"

namespace inkan::formats {

namespace {

// The profile (docs/formats.md "egov"; W3C XML Signature 1.0 / RFC 3275 and
// RFC 6931 for the algorithm URIs).
constexpr std::string_view kDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";
constexpr std::string_view kC14n10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
constexpr std::string_view kRsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
constexpr std::string_view kSha256 = "http://www.w3.org/2001/04/xmlenc#sha256";

// kousei.xml's element names (e-Gov 構成管理XML).
constexpr std::string_view kKousei = "構成情報";            // the signed part; also its ID
constexpr std::string_view kSignatureHolder = "署名情報";   // inserted right after 構成情報
constexpr std::string_view kManagement = "管理情報";
constexpr std::string_view kProcedureName = "手続名称";
constexpr std::string_view kApplicantContacts = "申請者連絡先情報";
constexpr std::string_view kApplicant = "申請者情報";
constexpr std::string_view kApplicantName = "氏名";
constexpr std::string_view kApplicantOrganisation = "法人団体名";
constexpr std::string_view kApplicationFileName = "申請書ファイル名称";  // must be signed
constexpr std::string_view kAttachmentFileName = "添付書類ファイル名称";  // signed when given

const xmlChar* xml(std::string_view text) { return reinterpret_cast<const xmlChar*>(text.data()); }

bool named(const xmlNode* node, std::string_view name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == nullptr &&
           std::string_view(reinterpret_cast<const char*>(node->name)) == name;
}

xmlNode* child(xmlNode* parent, std::string_view name)
{
    for (xmlNode* n = parent ? parent->children : nullptr; n; n = n->next) {
        if (named(n, name)) return n;
    }
    return nullptr;
}

std::string textOf(xmlNode* node)
{
    if (!node) return {};
    xmlChar* content = xmlNodeGetContent(node);
    std::string text = content ? reinterpret_cast<const char*>(content) : "";
    xmlFree(content);
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::DocumentInvalid, "kousei.xml: " + what); }

/// RFC 3986 percent-encoding of everything but the unreserved characters,
/// for a Reference URI (the 構成情報 fragment and non-ASCII file names).
std::string percentEncoded(std::string_view text)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 && c < 0x80) {
            out += static_cast<char>(c);
        } else if (c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 0xF];
        }
    }
    return out;
}

std::string base64(const Bytes& bytes)
{
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes.data(), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

// ---- parsing: libxml2 with two SAX hooks ----------------------------------

struct ParseState {
    bool doctype = false;
    /// Where each element directly under the root ends (byte offset just past
    /// its end tag, or its "/>"), from the parser's own position.
    std::vector<std::pair<xmlNode*, unsigned long>> topLevelEnds;
    endElementNsSAX2Func endElement = nullptr;
};

ParseState& stateOf(void* context)
{
    return *static_cast<ParseState*>(static_cast<xmlParserCtxtPtr>(context)->_private);
}

/// A DOCTYPE is refused as soon as it starts, before its internal subset
/// (entity declarations) is read: nothing is declared, nothing expanded.
void onDoctype(void* context, const xmlChar*, const xmlChar*, const xmlChar*)
{
    stateOf(context).doctype = true;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(context));
}

void onEndElement(void* context, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri)
{
    auto* parser = static_cast<xmlParserCtxtPtr>(context);
    ParseState& state = stateOf(context);
    xmlNode* node = parser->node;  // the element being closed
    state.endElement(context, localname, prefix, uri);
    if (node && node->parent && node->parent->parent && node->parent->parent->type == XML_DOCUMENT_NODE) {
        // The parser has consumed the end tag's '>' when it reports the end.
        state.topLevelEnds.emplace_back(node, static_cast<unsigned long>(xmlByteConsumed(parser)));
    }
}

struct DocFree {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

struct ParserFree {
    void operator()(xmlParserCtxt* context) const noexcept { xmlFreeParserCtxt(context); }
};

DocPtr parse(const Bytes& text, ParseState& state)
{
    if (text.empty()) invalid("it is empty");
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) invalid("it is too large");
    std::unique_ptr<xmlParserCtxt, ParserFree> parser(
        xmlCreateMemoryParserCtxt(reinterpret_cast<const char*>(text.data()), static_cast<int>(text.size())));
    if (!parser) throw Error(ErrorCode::Internal, "libxml2 parser could not be created");
    // No network, no DTD loading, no entity substitution, nothing printed.
    xmlCtxtUseOptions(parser.get(), XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    parser->_private = &state;
    state.endElement = parser->sax->endElementNs;
    parser->sax->endElementNs = onEndElement;
    parser->sax->internalSubset = onDoctype;
    xmlParseDocument(parser.get());
    DocPtr doc(parser->myDoc);
    parser->myDoc = nullptr;
    if (state.doctype) invalid("a DOCTYPE is not accepted (no DTDs or entities)");
    if (!parser->wellFormed || !doc) {
        const xmlError* error = xmlCtxtGetLastError(parser.get());
        std::string detail = "not well-formed XML";
        if (error && error->message) {
            std::string message = error->message;
            while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
            detail += " (line " + std::to_string(error->line) + ": " + message + ")";
        }
        invalid(detail);
    }
    return doc;
}

// ---- canonicalization (inclusive C14N 1.0, no comments) --------------------

/// Visible: `apex` and everything under it (a same-document reference "#id"
/// without comments, W3C XML Signature §4.3.3.3).
int insideApex(void* apex, xmlNodePtr node, xmlNodePtr parent)
{
    xmlNode* start = node->type == XML_NAMESPACE_DECL ? parent : node;
    for (xmlNode* n = start; n; n = n->parent) {
        if (n == apex) return 1;
    }
    return 0;
}

Bytes canonical(xmlDoc* doc, xmlNode* apex)
{
    xmlOutputBufferPtr out = xmlAllocOutputBuffer(nullptr);
    if (!out) throw Error(ErrorCode::Internal, "out of memory");
    const int result = xmlC14NExecute(doc, insideApex, apex, XML_C14N_1_0, nullptr, 0, out);
    Bytes bytes;
    if (result >= 0) {
        const xmlChar* content = xmlOutputBufferGetContent(out);
        bytes.assign(content, content + xmlOutputBufferGetSize(out));
    }
    xmlOutputBufferClose(out);
    if (result < 0) throw Error(ErrorCode::Internal, "kousei.xml could not be canonicalized");
    return bytes;
}

void collectNames(xmlNode* node, std::string_view element, std::vector<std::string>& names)
{
    for (xmlNode* n = node ? node->children : nullptr; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (named(n, element)) {
            const std::string name = textOf(n);
            if (!name.empty()) names.push_back(name);
        }
        collectNames(n, element, names);
    }
}

bool bareFileName(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
           name.find('\\') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

}  // namespace

struct EgovDocument::Impl {
    Bytes kousei;
    DocPtr doc;
    xmlNode* kouseiNode = nullptr;
    std::size_t insertAt = 0;  // just past 構成情報's end
    Bytes kouseiDigest;
    std::vector<std::pair<std::string, Bytes>> fileDigests;  // name, SHA-256
    DocumentDescription description;

    xmlNode* holder = nullptr;  // 署名情報, once prepared
    xmlNode* signatureValue = nullptr;
    Bytes signedInfo;           // its canonical form
    Bytes certificate;
};

EgovDocument::EgovDocument(Bytes kousei, std::vector<EgovFile> files) : impl_(std::make_unique<Impl>())
{
    Impl& d = *impl_;
    d.kousei = std::move(kousei);
    d.description.format = "egov";
    d.description.name = "kousei.xml";
    d.description.size = d.kousei.size();
    d.description.sha256 = sha256Hex(d.kousei.data(), d.kousei.size());

    ParseState state;
    d.doc = parse(d.kousei, state);
    if (d.doc->encoding && xmlStrcasecmp(d.doc->encoding, xml("UTF-8")) != 0) invalid("the encoding must be UTF-8");
    xmlNode* root = xmlDocGetRootElement(d.doc.get());
    for (xmlNode* n = root ? root->children : nullptr; n; n = n->next) {
        if (named(n, kSignatureHolder)) invalid("it is signed already (it has a 署名情報)");
        if (!named(n, kKousei)) continue;
        xmlChar* id = xmlGetNoNsProp(n, xml("ID"));
        const bool identified = id && std::string_view(reinterpret_cast<const char*>(id)) == kKousei;
        xmlFree(id);
        if (!identified) continue;
        if (d.kouseiNode) invalid("it has more than one 構成情報");
        d.kouseiNode = n;
    }
    if (!d.kouseiNode) invalid("the root element has no <構成情報 ID=\"構成情報\">");
    const auto end = std::find_if(state.topLevelEnds.begin(), state.topLevelEnds.end(),
                                  [&](const auto& entry) { return entry.first == d.kouseiNode; });
    if (end == state.topLevelEnds.end() || end->second == 0 || end->second > d.kousei.size() ||
        d.kousei[end->second - 1] != '>') {
        throw Error(ErrorCode::Internal, "kousei.xml: the end of 構成情報 was not found");
    }
    d.insertAt = end->second;
    d.kouseiDigest = digestOf(DigestAlgorithm::Sha256, canonical(d.doc.get(), d.kouseiNode));

    // What the person signing should see: the procedure and the applicant.
    xmlNode* management = child(d.kouseiNode, kManagement);
    d.description.procedure = textOf(child(management, kProcedureName));
    xmlNode* applicant = child(child(management, kApplicantContacts), kApplicant);
    const std::string organisation = textOf(child(applicant, kApplicantOrganisation));
    const std::string person = textOf(child(applicant, kApplicantName));
    d.description.applicant = organisation.empty() ? person : person.empty() ? organisation : organisation + " " + person;

    // The files: each named in 構成情報, every application file given.
    std::vector<std::string> applications;
    std::vector<std::string> attachments;
    collectNames(d.kouseiNode, kApplicationFileName, applications);
    collectNames(d.kouseiNode, kAttachmentFileName, attachments);
    std::set<std::string> given;
    for (auto& file : files) {
        if (!bareFileName(file.name)) invalid("'" + file.name + "' is not a bare file name");
        if (!given.insert(file.name).second) invalid("the file '" + file.name + "' is given twice");
        const bool listed = std::find(applications.begin(), applications.end(), file.name) != applications.end() ||
                            std::find(attachments.begin(), attachments.end(), file.name) != attachments.end();
        if (!listed) invalid("構成情報 does not name the file '" + file.name + "'");
        d.fileDigests.emplace_back(file.name, digestOf(DigestAlgorithm::Sha256, file.content));
    }
    for (const auto& name : applications) {
        if (!given.count(name)) invalid("the application file '" + name + "' that 構成情報 names was not given");
    }
    if (d.fileDigests.empty()) invalid("構成情報 names no application file (申請書ファイル名称)");
}

EgovDocument::~EgovDocument() = default;

const DocumentDescription& EgovDocument::description() const { return impl_->description; }

Bytes EgovDocument::prepare(const SignerCertificates& signer)
{
    Impl& d = *impl_;
    xmlDoc* doc = d.doc.get();
    d.certificate = signer.certificate;

    d.holder = xmlNewDocNode(doc, nullptr, xml(kSignatureHolder), nullptr);
    xmlNode* signature = xmlNewChild(d.holder, nullptr, xml("Signature"), nullptr);
    xmlNs* dsig = xmlNewNs(signature, xml(kDsigNamespace), nullptr);
    xmlSetNs(signature, dsig);

    xmlNode* signedInfo = xmlNewChild(signature, dsig, xml("SignedInfo"), nullptr);
    xmlNewProp(xmlNewChild(signedInfo, dsig, xml("CanonicalizationMethod"), nullptr), xml("Algorithm"), xml(kC14n10));
    xmlNewProp(xmlNewChild(signedInfo, dsig, xml("SignatureMethod"), nullptr), xml("Algorithm"), xml(kRsaSha256));
    auto addReference = [&](const std::string& uri, const Bytes& digest, bool c14nTransform) {
        xmlNode* reference = xmlNewChild(signedInfo, dsig, xml("Reference"), nullptr);
        xmlNewProp(reference, xml("URI"), xml(uri));
        if (c14nTransform) {
            xmlNode* transforms = xmlNewChild(reference, dsig, xml("Transforms"), nullptr);
            xmlNewProp(xmlNewChild(transforms, dsig, xml("Transform"), nullptr), xml("Algorithm"), xml(kC14n10));
        }
        xmlNewProp(xmlNewChild(reference, dsig, xml("DigestMethod"), nullptr), xml("Algorithm"), xml(kSha256));
        xmlNewTextChild(reference, dsig, xml("DigestValue"), xml(base64(digest)));
    };
    addReference("#" + percentEncoded(kKousei), d.kouseiDigest, true);
    for (const auto& [name, digest] : d.fileDigests) addReference(percentEncoded(name), digest, false);

    d.signatureValue = xmlNewChild(signature, dsig, xml("SignatureValue"), nullptr);
    xmlNode* keyInfo = xmlNewChild(signature, dsig, xml("KeyInfo"), nullptr);
    xmlNode* x509Data = xmlNewChild(keyInfo, dsig, xml("X509Data"), nullptr);
    xmlNewTextChild(x509Data, dsig, xml("X509Certificate"), xml(base64(signer.certificate)));

    // In place, so SignedInfo is canonicalized with the namespaces it will have.
    if (!xmlAddNextSibling(d.kouseiNode, d.holder)) throw Error(ErrorCode::Internal, "署名情報 could not be inserted");
    d.signedInfo = canonical(doc, signedInfo);
    return digestOf(DigestAlgorithm::Sha256, d.signedInfo);
}

Bytes EgovDocument::finish(const Bytes& signature)
{
    Impl& d = *impl_;
    if (!d.holder) throw Error(ErrorCode::Internal, "egov: finish before prepare");

    // The card's signature must verify over SignedInfo with the certificate's key.
    const unsigned char* cursor = d.certificate.data();
    ossl::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(d.certificate.size())));
    ossl::EvpPkeyPtr key(certificate ? X509_get_pubkey(certificate.get()) : nullptr);
    ossl::EvpMdCtxPtr context(EVP_MD_CTX_new());
    if (!key || !context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestVerify(context.get(), signature.data(), signature.size(), d.signedInfo.data(), d.signedInfo.size()) != 1) {
        throw Error(ErrorCode::Internal, "the card's signature does not verify with the signing certificate");
    }
    xmlNodeSetContent(d.signatureValue, xml(base64(signature)));

    xmlBufferPtr buffer = xmlBufferCreate();
    if (!buffer) throw Error(ErrorCode::Internal, "out of memory");
    const int length = xmlNodeDump(buffer, d.doc.get(), d.holder, 0, 0);
    Bytes inserted;
    if (length > 0) inserted.assign(xmlBufferContent(buffer), xmlBufferContent(buffer) + length);
    xmlBufferFree(buffer);
    if (inserted.empty()) throw Error(ErrorCode::Internal, "署名情報 could not be serialized");

    Bytes out;
    out.reserve(d.kousei.size() + inserted.size());
    out.insert(out.end(), d.kousei.begin(), d.kousei.begin() + static_cast<std::ptrdiff_t>(d.insertAt));
    out.insert(out.end(), inserted.begin(), inserted.end());
    out.insert(out.end(), d.kousei.begin() + static_cast<std::ptrdiff_t>(d.insertAt), d.kousei.end());
    return out;
}

}  // namespace inkan::formats
