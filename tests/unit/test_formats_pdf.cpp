// The pdf format with a software key standing in for the card: the
// incremental writer's layout (xref table and xref stream forms) read back by
// qpdf without a warning and without repair, the original bytes kept as they
// are; the signed PDF's /Contents is a CMS that OpenSSL verifies over the
// /ByteRange; a second signature keeps the first one's bytes; documents that
// cannot be signed are DOCUMENT_INVALID when built.
#include <doctest/doctest.h>

#include <cstring>
#include <ctime>
#include <string>

#include <openssl/cms.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include "daemon/error.hpp"
#include "daemon/formats/pdf_document.hpp"
#include "daemon/formats/pdf_incremental.hpp"
#include "daemon/hex.hpp"
#include "tests/unit/software_card.hpp"

using namespace inkan;
using namespace inkan::testing;

namespace {

Bytes bytesOf(const std::string& text) { return Bytes(text.begin(), text.end()); }
std::string textOf(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

/// A one-page PDF written here, with a classic xref table.
Bytes handmadePdf()
{
    const char* objects[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    };
    std::string pdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < std::size(objects); ++i) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const std::size_t xref = pdf.size();
    pdf += "xref\n0 4\n0000000000 65535 f\r\n";
    for (std::size_t offset : offsets) {
        char line[21];
        std::snprintf(line, sizeof line, "%010zu 00000 n\r\n", offset);
        pdf += line;
    }
    pdf += "trailer\n<< /Size 4 /Root 1 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>] >>\n"
           "startxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return bytesOf(pdf);
}

/// `pdf` rewritten by qpdf: object streams and an xref stream, or encrypted.
Bytes rewritten(const Bytes& pdf, bool objectStreams, const char* userPassword = nullptr)
{
    QPDF qpdf;
    qpdf.processMemoryFile("in", reinterpret_cast<const char*>(pdf.data()), pdf.size());
    QPDFWriter writer(qpdf);
    writer.setOutputMemory();
    writer.setStaticID(true);
    if (objectStreams) writer.setObjectStreamMode(qpdf_o_generate);
    if (userPassword) writer.setR6EncryptionParameters(userPassword, "owner", true, true, true, true, true, true, qpdf_r3p_full, true);
    writer.write();
    auto buffer = writer.getBufferSharedPointer();
    return Bytes(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());
}

/// qpdf reads `pdf` strictly: no repair, no warning.
struct Strict {
    QPDF qpdf;
    explicit Strict(const Bytes& pdf)
    {
        qpdf.setSuppressWarnings(true);
        qpdf.setAttemptRecovery(false);
        qpdf.processMemoryFile("out", reinterpret_cast<const char*>(pdf.data()), pdf.size());
        (void)qpdf.getAllPages();
        CHECK_FALSE(qpdf.anyWarnings());
    }
};

formats::SignerCertificates signerOf(const SoftwareCard& card) { return {"sign", card.certificate, {}}; }

Bytes sign(const Bytes& pdf, const SoftwareCard& card, formats::PdfSignatureOptions options = {})
{
    formats::PdfDocument document(pdf, "申請書.pdf", std::move(options), std::time(nullptr));
    const Bytes toBeSigned = document.prepare(signerOf(card));
    return document.finish(cardSign(card.key.get(), DigestAlgorithm::Sha256, toBeSigned));
}

/// The signature field's value dictionary by field name, from qpdf.
QPDFObjectHandle signatureValue(QPDF& qpdf, const std::string& name)
{
    for (QPDFObjectHandle field : qpdf.getRoot().getKey("/AcroForm").getKey("/Fields").aitems()) {
        if (field.getKey("/T").getUTF8Value() == name) return field.getKey("/V");
    }
    FAIL("no field " << name);
    return QPDFObjectHandle::newNull();
}

/// OpenSSL's CMS_verify of /Contents over the /ByteRange bytes of `pdf`.
bool verifiesOverByteRange(const Bytes& pdf, QPDFObjectHandle value)
{
    std::vector<long long> range;
    for (QPDFObjectHandle item : value.getKey("/ByteRange").aitems()) range.push_back(item.getIntValue());
    REQUIRE(range.size() == 4);
    CHECK(range[0] == 0);
    CHECK(pdf[static_cast<std::size_t>(range[1])] == '<');
    CHECK(pdf[static_cast<std::size_t>(range[2] - 1)] == '>');
    std::string content(pdf.begin(), pdf.begin() + range[1]);
    content.append(pdf.begin() + range[2], pdf.begin() + range[2] + range[3]);
    const std::string der = value.getKey("/Contents").getStringValue();  // with its zero padding
    const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
    ossl::Ptr<CMS_ContentInfo, CMS_ContentInfo_free> cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(der.size())));
    REQUIRE(cms);
    ossl::BioPtr data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    return CMS_verify(cms.get(), nullptr, nullptr, data.get(), nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
}

}  // namespace

TEST_SUITE("formats pdf")
{
    TEST_CASE("the incremental writer: an xref table after a table, read back by qpdf, the original untouched")
    {
        const Bytes original = handmadePdf();
        const formats::pdf::LastXref last = formats::pdf::findLastXref(original);
        CHECK(last.form == formats::pdf::XrefForm::Table);
        formats::pdf::IncrementalUpdate update(original, 4, last);
        const int added = update.reserveNumber();
        CHECK(added == 4);
        update.addObject({added, 0}, "(added)");
        update.addObject({1, 0}, "<< /Type /Catalog /Pages 2 0 R /Extra 4 0 R >>");
        const Bytes updated = update.finish({"1 0 R", "", "[<00112233445566778899AABBCCDDEEFF> <FF>]"});

        REQUIRE(updated.size() > original.size());
        CHECK(std::equal(original.begin(), original.end(), updated.begin()));
        const std::string tail = textOf(updated).substr(original.size());
        CHECK(tail.find("xref\n1 1\n") != std::string::npos);
        CHECK(tail.find("4 1\n") != std::string::npos);
        CHECK(tail.find("/Prev " + std::to_string(last.offset)) != std::string::npos);
        CHECK(tail.find("/Size 5") != std::string::npos);
        // Every entry line is exactly 20 bytes (ISO 32000-1 §7.5.4).
        const std::size_t entry = tail.find(" 00000 n\r\n");
        REQUIRE(entry != std::string::npos);
        REQUIRE(entry >= 11);
        CHECK(tail[entry - 11] == '\n');
        CHECK(tail.substr(entry - 10, 10).find_first_not_of("0123456789") == std::string::npos);

        Strict strict(updated);
        CHECK(strict.qpdf.getObject(4, 0).getStringValue() == "added");
        CHECK(strict.qpdf.getRoot().getKey("/Extra").getStringValue() == "added");
        CHECK(strict.qpdf.getTrailer().getKey("/Prev").getIntValue() == static_cast<long long>(last.offset));
    }

    TEST_CASE("the incremental writer: an uncompressed xref stream after an xref stream with object streams")
    {
        const Bytes original = rewritten(handmadePdf(), true);
        REQUIRE(textOf(original).find("/ObjStm") != std::string::npos);
        const formats::pdf::LastXref last = formats::pdf::findLastXref(original);
        CHECK(last.form == formats::pdf::XrefForm::Stream);
        QPDF before;
        before.processMemoryFile("in", reinterpret_cast<const char*>(original.data()), original.size());
        const int size = before.getTrailer().getKey("/Size").getIntValueAsInt();
        const QPDFObjGen root = before.getRoot().getObjGen();

        formats::pdf::IncrementalUpdate update(original, size, last);
        const int added = update.reserveNumber();
        update.addObject({added, 0}, "(added)");
        update.addObject({root.getObj(), root.getGen()}, "<< /Type /Catalog /Pages " + before.getRoot().getKey("/Pages").unparse() +
                                                            " /Extra " + std::to_string(added) + " 0 R >>");
        const Bytes updated = update.finish({before.getRoot().unparse(), "", "[<00> <01>]"});
        CHECK(std::equal(original.begin(), original.end(), updated.begin()));
        const std::string tail = textOf(updated).substr(original.size());
        CHECK(tail.find("/Type /XRef") != std::string::npos);
        CHECK(tail.find("\nxref\n") == std::string::npos);

        Strict strict(updated);
        CHECK(strict.qpdf.getRoot().getKey("/Extra").getStringValue() == "added");
        CHECK(strict.qpdf.getTrailer().getKey("/Prev").getIntValue() == static_cast<long long>(last.offset));
        CHECK(strict.qpdf.getTrailer().getKey("/Size").getIntValueAsInt() == added + 2);  // the xref stream's own number
    }

    TEST_CASE("a file without startxref is DOCUMENT_INVALID")
    {
        try {
            (void)formats::pdf::findLastXref(bytesOf("%PDF-1.7\n1 0 obj\n<< >>\nendobj\n"));
            FAIL("accepted");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::DocumentInvalid);
        }
    }

    TEST_CASE("signed twice, invisible then visible: both CMS verify over their byte ranges, nothing before each EOF changes")
    {
        const SoftwareCard card = makeCard("印鑑 太郎");
        for (const bool objectStreams : {false, true}) {
            CAPTURE(objectStreams);
            const Bytes original = objectStreams ? rewritten(handmadePdf(), true) : handmadePdf();
            formats::PdfDocument described(original, "a.pdf", {}, 0);
            CHECK(described.description().pages == 1);
            CHECK(described.description().format == "pdf");
            // What the PIN dialog and the 使用簿 show: the page count with size and SHA-256.
            CHECK(formats::dialogText(described.description()).find(std::to_string(original.size()) + " bytes, 1 page\n") !=
                  std::string::npos);
            CHECK(formats::ledgerText(described.description()).find(" pages=1 sha256=") != std::string::npos);

            const Bytes once = sign(original, card, {"登記申請のため", "東京都千代田区", false});
            CHECK(std::equal(original.begin(), original.end(), once.begin()));
            const Bytes twice = sign(once, card, {"", "", true});
            CHECK(std::equal(once.begin(), once.end(), twice.begin()));

            Strict strict(twice);
            QPDFObjectHandle form = strict.qpdf.getRoot().getKey("/AcroForm");
            CHECK(form.getKey("/SigFlags").getIntValue() == 3);
            CHECK(form.getKey("/Fields").getArrayNItems() == 2);
            QPDFObjectHandle first = signatureValue(strict.qpdf, "Signature1");
            QPDFObjectHandle second = signatureValue(strict.qpdf, "Signature2");
            CHECK(first.getKey("/SubFilter").getName() == "/adbe.pkcs7.detached");
            CHECK(first.getKey("/Filter").getName() == "/Adobe.PPKLite");
            CHECK(first.getKey("/Reason").getUTF8Value() == "登記申請のため");
            CHECK(first.getKey("/Location").getUTF8Value() == "東京都千代田区");
            CHECK(first.getKey("/Name").getUTF8Value() == "印鑑 太郎");
            CHECK(verifiesOverByteRange(twice, first));
            CHECK(verifiesOverByteRange(twice, second));
            // The first covers exactly the first signed file, the second the whole.
            CHECK(first.getKey("/ByteRange").getArrayItem(3).getIntValue() + first.getKey("/ByteRange").getArrayItem(2).getIntValue() ==
                  static_cast<long long>(once.size()));
            CHECK(second.getKey("/ByteRange").getArrayItem(3).getIntValue() + second.getKey("/ByteRange").getArrayItem(2).getIntValue() ==
                  static_cast<long long>(twice.size()));

            QPDFObjectHandle page = strict.qpdf.getAllPages().front();
            REQUIRE(page.getKey("/Annots").getArrayNItems() == 2);
            QPDFObjectHandle invisible = page.getKey("/Annots").getArrayItem(0);
            QPDFObjectHandle visible = page.getKey("/Annots").getArrayItem(1);
            CHECK(invisible.getKey("/F").getIntValue() == 132);
            CHECK(invisible.getKey("/Rect").getArrayAsRectangle().urx == 0);
            CHECK(invisible.getKey("/FT").getName() == "/Sig");
            CHECK(visible.getKey("/Rect").getArrayAsRectangle().urx > 0);
            QPDFObjectHandle stamp = visible.getKey("/AP").getKey("/N");
            REQUIRE(stamp.isStream());
            const auto data = stamp.getStreamData();
            const std::string content(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
            CHECK(content.find("<6C0F540D0020") != std::string::npos);  // "氏名 " in UTF-16BE
            CHECK(stamp.getDict().getKey("/Resources").getKey("/Font").getKey("/F1").getKey("/Encoding").getName() == "/UniJIS-UCS2-H");

            // One byte changed in the first range: the first signature no longer verifies.
            Bytes tampered = twice;
            tampered[20] ^= 0x01;
            CHECK_FALSE(verifiesOverByteRange(tampered, first));
        }
    }

    TEST_CASE("an existing AcroForm keeps its fields and gains the signature field")
    {
        std::string pdf = textOf(handmadePdf());
        const auto at = pdf.find("/Pages 2 0 R >>");
        pdf.replace(at, std::strlen("/Pages 2 0 R >>"), "/Pages 2 0 R /AcroForm << /Fields [] /NeedAppearances true >> >>");
        // The offsets after object 1 moved: let qpdf write the file anew.
        QPDF repaired;
        repaired.setSuppressWarnings(true);
        repaired.processMemoryFile("in", pdf.data(), pdf.size());
        QPDFWriter writer(repaired);
        writer.setOutputMemory();
        writer.write();
        auto buffer = writer.getBufferSharedPointer();
        const Bytes original(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());

        const Bytes signedPdf = sign(original, makeCard("signer"));
        Strict strict(signedPdf);
        QPDFObjectHandle form = strict.qpdf.getRoot().getKey("/AcroForm");
        CHECK(form.getKey("/NeedAppearances").getBoolValue());
        CHECK(form.getKey("/Fields").getArrayNItems() == 1);
    }

    TEST_CASE("documents that cannot be signed are DOCUMENT_INVALID when built")
    {
        const Bytes good = handmadePdf();
        Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
        Bytes badOffset = good;
        const std::string text = textOf(good);
        badOffset[text.rfind("startxref\n") + 10] = '1';  // the xref offset points elsewhere
        const struct {
            const char* what;
            Bytes pdf;
            const char* detail;
        } cases[] = {
            {"not a PDF", bytesOf("hello"), "%PDF-"},
            {"cut in half", cut, ""},
            {"a wrong startxref", badOffset, ""},
            {"encrypted with a password", rewritten(good, false, "secret"), "encrypted"},
            {"encrypted without a user password", rewritten(good, false, ""), "encrypted"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.what);
            try {
                formats::PdfDocument document(c.pdf, "", {}, 0);
                FAIL("accepted");
            } catch (const Error& error) {
                CHECK(error.code() == ErrorCode::DocumentInvalid);
                CHECK(std::string(error.what()).find(c.detail) != std::string::npos);
            }
        }
    }
}
