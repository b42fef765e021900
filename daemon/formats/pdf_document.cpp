// inkan — the `pdf` format (an incremental update with an adbe.pkcs7.detached signature).
#include "daemon/formats/pdf_document.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/cert/utf8.hpp"
#include "daemon/error.hpp"
#include "daemon/formats/cms_signed_data.hpp"
#include "daemon/formats/pdf_incremental.hpp"
#include "daemon/hex.hpp"

namespace inkan::formats {

namespace {

using QH = QPDFObjectHandle;

// ISO 32000-1 §7.5.2: the header every PDF starts with. A file with bytes
// before it would need every offset shifted; such files are refused.
constexpr std::string_view kHeader = "%PDF-";
// §12.8.1 Table 252 and §12.7.2 Table 219: /SigFlags SignaturesExist (1) | AppendOnly (2).
constexpr int kSigFlags = 3;
// §12.5.3 Table 165: annotation flags Print (4) | Locked (128).
constexpr int kWidgetFlags = 132;
// /Contents room beyond the CMS's exact size (OpenSSL's encoding is exact;
// this only absorbs a card whose signature is shorter than its modulus).
constexpr std::size_t kContentsMargin = 256;
// A CMS larger than this (a chain far beyond any card's) is refused before
// the card is asked: /Contents would not be a string readers accept.
constexpr std::size_t kMaxContentsBytes = 32 * 1024;
// The /ByteRange array's text: "[0 a b c]" padded with spaces to this width
// (three ten-digit numbers fit), written after the layout is known.
constexpr std::size_t kByteRangeWidth = 40;

// The visible stamp: its size in points, its distance from the crop box's
// lower right corner, the font size and line height.
constexpr double kStampWidth = 220;
constexpr double kStampHeight = 52;
constexpr double kStampInset = 36;
constexpr int kFontSize = 9;
constexpr int kLeading = 13;
// A Japanese CID font that PDF readers have or substitute (Acrobat's
// Japanese font pack names it; poppler maps it through fontconfig), not
// embedded: the encoding is the predefined CMap UniJIS-UCS2-H (Table 118),
// so the strings are UTF-16BE code units of BMP characters. Its metrics are
// the usual ones for HeiseiKakuGo-W5 (Adobe-Japan1); half-width forms and
// ASCII (CIDs 1–95, 231–632) are 500 units wide, the rest 1000.
constexpr std::string_view kStampFont = "/HeiseiKakuGo-W5";
constexpr std::string_view kStampCMap = "/UniJIS-UCS2-H";
constexpr char32_t kGeta = 0x3013;  // 〓, shown for a character outside the BMP

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::DocumentInvalid, "PDF: " + what); }

// qpdf warns (and counts it) when a dictionary or array accessor meets
// another type; these read optional entries without that.
QH key(QH dictionary, const std::string& name) { return dictionary.isDictionary() ? dictionary.getKey(name) : QH::newNull(); }

std::vector<QH> items(QH array) { return array.isArray() ? array.getArrayAsVector() : std::vector<QH>{}; }

[[noreturn]] void encrypted()
{
    invalid("the document is encrypted (password or permissions): remove the encryption, then sign");
}

/// The UTF-16BE hex string of `text` for a UniJIS-UCS2-H font.
std::string ucs2Hex(std::string_view text)
{
    std::string out = "<";
    char digits[5];
    for (std::size_t pos = 0; pos < text.size();) {
        auto c = cert::utf8::next(text, pos);
        if (!c) {
            ++pos;
            c = cert::utf8::kReplacement;
        }
        if (*c > 0xFFFF) c = kGeta;
        std::snprintf(digits, sizeof digits, "%04X", static_cast<unsigned>(*c));
        out += digits;
    }
    return out + ">";
}

/// PDF date (§7.9.4) in UTC.
std::string pdfDate(std::time_t time)
{
    std::tm utc{};
    gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "D:%Y%m%d%H%M%SZ", &utc);
    return text;
}

/// 日時 as the stamp shows it, in the daemon's local time with its offset.
std::string stampTime(std::time_t time)
{
    std::tm local{};
    localtime_r(&time, &local);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %z", &local);
    return text;
}

std::string number(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", value);
    return text;
}

QH rectangle(double llx, double lly, double urx, double ury)
{
    QH array = QH::newArray();
    for (double v : {llx, lly, urx, ury}) array.appendItem(QH::newReal(number(v)));
    return array;
}

std::size_t modulusBytes(const Bytes& certificateDer)
{
    const unsigned char* cursor = certificateDer.data();
    ossl::X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(certificateDer.size())));
    if (!certificate) throw Error(ErrorCode::BadRequest, "the signing certificate cannot be parsed");
    const int size = EVP_PKEY_get_size(X509_get0_pubkey(certificate.get()));
    if (size <= 0) throw Error(ErrorCode::BadRequest, "the signing certificate's key cannot be read");
    return static_cast<std::size_t>(size);
}

/// SHA-256 over the two byte ranges (§12.8.1: everything but /Contents' string).
Bytes rangesDigest(const Bytes& pdf, std::size_t gapStart, std::size_t gapEnd)
{
    ossl::Ptr<EVP_MD_CTX, EVP_MD_CTX_free> context(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), pdf.data(), gapStart) != 1 ||
        EVP_DigestUpdate(context.get(), pdf.data() + gapEnd, pdf.size() - gapEnd) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
        throw Error(ErrorCode::Internal, "digest failed");
    }
    return Bytes(digest, digest + length);
}

}  // namespace

struct PdfDocument::Impl {
    Bytes original;  // qpdf reads from these bytes: they must not move while `qpdf` lives
    QPDF qpdf;
    PdfSignatureOptions options;
    std::time_t signingTime;
    DocumentDescription description;
    QH firstPage;
    pdf::LastXref lastXref;

    // After prepare():
    Bytes signedPdf;
    std::size_t contentsStart = 0;  // the first hex digit of /Contents
    std::size_t contentsBytes = 0;  // the room for the CMS (hex digits / 2)
    std::unique_ptr<CmsSignedData> cms;

    void parse();
    QH reference(int number);
    std::string fieldName();
    std::string stampContent(const cert::CertificateInfo& signer) const;
};

void PdfDocument::Impl::parse()
{
    if (original.size() < kHeader.size() || std::memcmp(original.data(), kHeader.data(), kHeader.size()) != 0) {
        invalid("not a PDF: it does not start with %PDF-");
    }
    // No repair: a damaged file's offsets cannot carry an incremental update.
    qpdf.setSuppressWarnings(true);
    qpdf.setAttemptRecovery(false);
    try {
        qpdf.processMemoryFile("document", reinterpret_cast<const char*>(original.data()), original.size());
        if (qpdf.isEncrypted()) encrypted();
        std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(qpdf).getAllPages();
        if (pages.empty()) invalid("the document has no pages");
        description.pages = static_cast<int>(pages.size());
        firstPage = pages.front().getObjectHandle();
        if (!firstPage.isIndirect()) invalid("page 1 is not an indirect object");

        QH root = qpdf.getTrailer().getKey("/Root");
        if (!root.isIndirect() || !root.isDictionary()) invalid("the trailer has no catalog (/Root)");
        if (!qpdf.getTrailer().getKey("/Size").isInteger()) invalid("the trailer has no /Size");
        // §12.8.2.2: a document certified with "no changes" (DocMDP /P 1) cannot take another signature.
        for (QH signatureReference : items(key(key(key(root, "/Perms"), "/DocMDP"), "/Reference"))) {
            QH p = key(key(signatureReference, "/TransformParams"), "/P");
            if (p.isInteger() && p.getIntValue() == 1) invalid("the document is certified against any change (DocMDP /P 1)");
        }
        // Everything prepare() serializes is read now, so that a damaged
        // object is refused here, before the card is asked.
        (void)root.unparseResolved();
        (void)firstPage.unparseResolved();
        QH form = key(root, "/AcroForm");
        if (form.isDictionary()) (void)form.unparseResolved();
        for (QH field : items(key(form, "/Fields"))) (void)key(field, "/T").unparse();
        for (QH annotation : items(key(firstPage, "/Annots"))) (void)annotation.unparse();
        (void)QPDFPageObjectHelper(firstPage).getCropBox().unparseResolved();
    } catch (const QPDFExc& e) {
        if (e.getErrorCode() == qpdf_e_password) encrypted();
        invalid(e.getMessageDetail().empty() ? e.what() : e.getMessageDetail());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        invalid(e.what());
    }
    if (qpdf.anyWarnings()) {
        const auto warnings = qpdf.getWarnings();
        invalid("the document is damaged (" + (warnings.empty() ? std::string("qpdf warned") : warnings.front().getMessageDetail()) + ")");
    }
    lastXref = pdf::findLastXref(original);
}

/// An indirect reference to the new object `number` (not in the file yet).
/// It stands for an empty dictionary in qpdf's view of the document (a null
/// would make qpdf drop the key that refers to it); only "N 0 R" is written.
QH PdfDocument::Impl::reference(int number)
{
    qpdf.replaceObject(QPDFObjGen(number, 0), QH::newDictionary());
    return qpdf.getObject(number, 0);
}

/// "Signature1", "Signature2", …: the first the form's fields do not use.
std::string PdfDocument::Impl::fieldName()
{
    std::set<std::string> taken;
    for (QH field : items(key(key(key(qpdf.getTrailer(), "/Root"), "/AcroForm"), "/Fields"))) {
        QH name = key(field, "/T");
        if (name.isString()) taken.insert(name.getUTF8Value());
    }
    for (int i = 1;; ++i) {
        std::string name = "Signature" + std::to_string(i);
        if (!taken.contains(name)) return name;
    }
}

/// The stamp's content stream (§8.2 form XObject): a vermilion frame and
/// three lines, 商号, 氏名, 日時.
std::string PdfDocument::Impl::stampContent(const cert::CertificateInfo& signer) const
{
    const auto& corporation = signer.registry.corporation;
    const std::string company = corporation && corporation->corporateName ? *corporation->corporateName : "";
    std::string person = signer.subjectCommonName;
    if (corporation && corporation->representativeName) {
        person = (corporation->representativeTitle ? *corporation->representativeTitle + " " : "") + *corporation->representativeName;
    }
    std::vector<std::string> lines;
    if (!company.empty()) lines.push_back("商号 " + company);
    lines.push_back("氏名 " + person);
    lines.push_back("日時 " + stampTime(signingTime));

    std::string content = "q 0.85 0.2 0.1 RG 1.5 w 1 1 " + number(kStampWidth - 2) + " " + number(kStampHeight - 2) + " re S\n";
    content += "BT /F1 " + std::to_string(kFontSize) + " Tf 0.85 0.2 0.1 rg " + std::to_string(kLeading) + " TL 8 " +
               number(kStampHeight - 6 - kFontSize) + " Td\n";
    for (std::size_t i = 0; i < lines.size(); ++i) content += (i == 0 ? "" : "T* ") + ucs2Hex(lines[i]) + " Tj\n";
    return content + "ET Q";
}

PdfDocument::PdfDocument(Bytes pdf, std::string name, PdfSignatureOptions options, std::time_t signingTime)
    : impl_(std::make_unique<Impl>())
{
    impl_->original = std::move(pdf);
    impl_->options = std::move(options);
    impl_->signingTime = signingTime;
    impl_->description.format = "pdf";
    impl_->description.name = std::move(name);
    impl_->description.size = impl_->original.size();
    impl_->description.sha256 = sha256Hex(impl_->original.data(), impl_->original.size());
    impl_->parse();
}

PdfDocument::~PdfDocument() = default;

const DocumentDescription& PdfDocument::description() const { return impl_->description; }

Bytes PdfDocument::prepare(const SignerCertificates& signer)
{
    // parse() read every object this serializes; should qpdf still throw
    // here, the document is what it could not read, and the card is not asked.
    try {
        return prepareUpdate(signer);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        invalid(e.what());
    }
}

Bytes PdfDocument::prepareUpdate(const SignerCertificates& signer)
{
    Impl& d = *impl_;
    const cert::CertificateInfo info = cert::parseCertificate(signer.certificate);

    // /Contents' room: the CMS with a signature as long as the modulus,
    // encoded once on trial with a stand-in digest (the same length).
    const std::size_t signatureBytes = modulusBytes(signer.certificate);
    d.contentsBytes = CmsSignedData(Bytes(32, 0), DigestAlgorithm::Sha256, signer, d.signingTime).encodedSize(signatureBytes) +
                      kContentsMargin;
    if (d.contentsBytes > kMaxContentsBytes) {
        throw Error(ErrorCode::BadRequest, "the signature with its certificates (" + std::to_string(d.contentsBytes) +
                                               " bytes) is larger than a PDF signature may be (" +
                                               std::to_string(kMaxContentsBytes) + " bytes): sign without the chain");
    }

    QH trailer = d.qpdf.getTrailer();
    QH root = trailer.getKey("/Root");
    const int previousSize = std::max(trailer.getKey("/Size").getIntValueAsInt(), static_cast<int>(d.qpdf.getObjectCount()) + 1);
    pdf::IncrementalUpdate update(d.original, previousSize, d.lastXref);

    const int signatureNumber = update.reserveNumber();
    const int fieldNumber = update.reserveNumber();
    QH field = d.reference(fieldNumber);
    QH signatureValue = d.reference(signatureNumber);

    // The signature dictionary (§12.8.1 Table 252), written as text so that
    // /ByteRange and /Contents sit at known offsets; the values come from qpdf.
    std::string value = "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached";
    const std::string signerName = info.subjectCommonName;
    if (!signerName.empty()) value += " /Name " + QH::newUnicodeString(signerName).unparse();
    value += " /M " + QH::newString(pdfDate(d.signingTime)).unparse();
    if (!d.options.reason.empty()) value += " /Reason " + QH::newUnicodeString(d.options.reason).unparse();
    if (!d.options.location.empty()) value += " /Location " + QH::newUnicodeString(d.options.location).unparse();
    value += " /ByteRange ";
    const std::size_t byteRangeAt = value.size();
    value += "[" + std::string(kByteRangeWidth - 2, ' ') + "]";
    value += " /Contents ";
    const std::size_t contentsAt = value.size();
    value += "<" + std::string(2 * d.contentsBytes, '0') + "> >>";

    // The field and its widget in one dictionary (§12.7.3.1, §12.5.6.19).
    QH widget = QH::newDictionary();
    widget.replaceKey("/Type", QH::newName("/Annot"));
    widget.replaceKey("/Subtype", QH::newName("/Widget"));
    widget.replaceKey("/FT", QH::newName("/Sig"));
    widget.replaceKey("/T", QH::newUnicodeString(d.fieldName()));
    widget.replaceKey("/V", signatureValue);
    widget.replaceKey("/F", QH::newInteger(kWidgetFlags));
    widget.replaceKey("/P", d.firstPage);
    std::string stamp;
    std::string stampDictionary;
    std::string fontDescriptor;
    int stampNumber = 0;
    int fontDescriptorNumber = 0;
    if (d.options.visible) {
        const QPDFObjectHandle::Rectangle box = QPDFPageObjectHelper(d.firstPage).getCropBox().getArrayAsRectangle();
        const double llx = std::max(box.llx, box.urx - kStampInset - kStampWidth);
        const double lly = box.lly + kStampInset;
        widget.replaceKey("/Rect", rectangle(llx, lly, llx + kStampWidth, lly + kStampHeight));

        stampNumber = update.reserveNumber();
        fontDescriptorNumber = update.reserveNumber();
        QH appearance = QH::newDictionary();
        appearance.replaceKey("/N", d.reference(stampNumber));
        widget.replaceKey("/AP", appearance);

        fontDescriptor = "<< /Type /FontDescriptor /FontName " + std::string(kStampFont) +
                         " /Flags 4 /FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 752 /Descent -221"
                         " /CapHeight 737 /StemV 114 >>";
        const std::string font = "<< /Type /Font /Subtype /Type0 /BaseFont " + std::string(kStampFont) + " /Encoding " +
                                 std::string(kStampCMap) + " /DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont " +
                                 std::string(kStampFont) +
                                 " /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor " +
                                 std::to_string(fontDescriptorNumber) + " 0 R /DW 1000 /W [1 95 500 231 632 500] >>] >>";
        stamp = d.stampContent(info);
        stampDictionary = "<< /Type /XObject /Subtype /Form /BBox [0 0 " + number(kStampWidth) + " " + number(kStampHeight) +
                          "] /Resources << /Font << /F1 " + font + " >> >> /Length " + std::to_string(stamp.size()) + " >>";
    } else {
        widget.replaceKey("/Rect", QH::parse("[0 0 0 0]"));
    }

    // Page 1 lists the widget among its annotations (§12.5.2).
    QH annotations = QH::newArray();
    for (QH annotation : items(key(d.firstPage, "/Annots"))) annotations.appendItem(annotation);
    annotations.appendItem(field);
    d.firstPage.replaceKey("/Annots", annotations);

    // The form lists the field; /SigFlags 3 (§12.7.2). An indirect AcroForm
    // is changed as its own object, a direct one (or none) with the catalog.
    QH form = key(root, "/AcroForm");
    const bool formIsObject = form.isDictionary() && form.isIndirect();
    if (!form.isDictionary()) form = QH::newDictionary();
    QH fields = QH::newArray();
    for (QH existing : items(key(form, "/Fields"))) fields.appendItem(existing);
    fields.appendItem(field);
    form.replaceKey("/Fields", fields);
    QH sigFlags = key(form, "/SigFlags");
    const int flags = sigFlags.isInteger() ? sigFlags.getIntValueAsInt() : 0;
    form.replaceKey("/SigFlags", QH::newInteger(flags | kSigFlags));
    if (!formIsObject) root.replaceKey("/AcroForm", form);

    const std::size_t signatureAt = update.addObject({signatureNumber, 0}, value);
    update.addObject({fieldNumber, 0}, widget.unparseResolved());
    if (d.options.visible) {
        update.addStream({stampNumber, 0}, stampDictionary, stamp);
        update.addObject({fontDescriptorNumber, 0}, fontDescriptor);
    }
    const QPDFObjGen page = d.firstPage.getObjGen();
    update.addObject({page.getObj(), page.getGen()}, d.firstPage.unparseResolved());
    QH changed = formIsObject ? form : root;
    update.addObject({changed.getObjGen().getObj(), changed.getObjGen().getGen()}, changed.unparseResolved());

    // §14.4: the first /ID element stays, the second changes with the update.
    pdf::TrailerEntries entries;
    entries.root = root.unparse();
    QH infoEntry = key(trailer, "/Info");
    if (infoEntry.isIndirect()) {
        entries.info = infoEntry.unparse();
    } else if (infoEntry.isDictionary()) {
        entries.info = infoEntry.unparseResolved();
    }
    const std::string fresh = "<" + hexEncode(digestOf(DigestAlgorithm::Sha256, Bytes(value.begin(), value.end()))).substr(0, 32) + ">";
    QH id = key(trailer, "/ID");
    const std::string first = id.isArray() && id.getArrayNItems() == 2 && id.getArrayItem(0).isString() ? id.getArrayItem(0).unparse() : fresh;
    entries.id = "[" + first + " " + fresh + "]";
    d.signedPdf = update.finish(entries);

    // /ByteRange: everything but /Contents' string, its angle brackets included.
    const std::size_t gapStart = signatureAt + contentsAt;
    const std::size_t gapEnd = gapStart + 2 * d.contentsBytes + 2;
    const std::string ranges = "[0 " + std::to_string(gapStart) + " " + std::to_string(gapEnd) + " " +
                               std::to_string(d.signedPdf.size() - gapEnd);
    std::string byteRange = ranges + std::string(kByteRangeWidth - 1 - ranges.size(), ' ') + "]";
    std::copy(byteRange.begin(), byteRange.end(), d.signedPdf.begin() + static_cast<std::ptrdiff_t>(signatureAt + byteRangeAt));
    d.contentsStart = gapStart + 1;

    d.cms = std::make_unique<CmsSignedData>(rangesDigest(d.signedPdf, gapStart, gapEnd), DigestAlgorithm::Sha256, signer,
                                            d.signingTime);
    return d.cms->toBeSigned();
}

Bytes PdfDocument::finish(const Bytes& signature)
{
    Impl& d = *impl_;
    if (!d.cms) throw Error(ErrorCode::Internal, "pdf: finish before prepare");
    const Bytes der = d.cms->finish(signature);
    if (der.size() > d.contentsBytes) {
        throw Error(ErrorCode::Internal, "the CMS signature (" + std::to_string(der.size()) + " bytes) does not fit the " +
                                             std::to_string(d.contentsBytes) + " bytes reserved in /Contents");
    }
    const std::string hex = hexEncode(der);
    std::copy(hex.begin(), hex.end(), d.signedPdf.begin() + static_cast<std::ptrdiff_t>(d.contentsStart));
    return std::move(d.signedPdf);
}

}  // namespace inkan::formats
