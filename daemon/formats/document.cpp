// inkan — digests shared by the document formats.
#include "daemon/formats/document.hpp"

#include <string_view>

#include <openssl/evp.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/hex.hpp"

namespace inkan::formats {

namespace {

/// The longest name or text shown (in UTF-8 bytes; cut on a character boundary).
constexpr std::size_t kMaxShownText = 120;

/// `text` on one line: control characters (C0, DEL) become U+FFFD, and a
/// long text is cut with "…".
std::string oneLine(std::string_view text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (out.size() >= kMaxShownText && (c & 0xC0) != 0x80) {
            out += "…";
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            out += "\xEF\xBF\xBD";
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string quoted(std::string_view text)
{
    std::string out = "\"";
    for (char c : oneLine(text)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::string dialogText(const DocumentDescription& description)
{
    std::string text = "Document (" + description.format + "):";
    if (!description.name.empty()) text += " \"" + oneLine(description.name) + "\" (name given by the caller)";
    text += "\n" + std::to_string(description.size) + " bytes";
    if (description.pages) text += ", " + std::to_string(*description.pages) + (*description.pages == 1 ? " page" : " pages");
    text += "\nSHA-256 " + description.sha256;
    if (!description.procedure.empty()) text += "\n手続名称: " + oneLine(description.procedure);
    if (!description.applicant.empty()) text += "\n申請者: " + oneLine(description.applicant);
    return text;
}

std::string ledgerText(const DocumentDescription& description)
{
    std::string text = "document " + description.format;
    if (!description.name.empty()) text += " name=" + quoted(description.name);
    text += " size=" + std::to_string(description.size);
    if (description.pages) text += " pages=" + std::to_string(*description.pages);
    text += " sha256=" + description.sha256;
    if (!description.procedure.empty()) text += " procedure=" + quoted(description.procedure);
    if (!description.applicant.empty()) text += " applicant=" + quoted(description.applicant);
    return text;
}

Bytes digestOf(DigestAlgorithm algorithm, const std::uint8_t* data, std::size_t size)
{
    const EVP_MD* md = algorithm == DigestAlgorithm::Sha512   ? EVP_sha512()
                       : algorithm == DigestAlgorithm::Sha384 ? EVP_sha384()
                                                              : EVP_sha256();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data, size, digest, &length, md, nullptr) != 1) throw Error(ErrorCode::Internal, "digest failed");
    return Bytes(digest, digest + length);
}

std::string sha256Hex(const std::uint8_t* data, std::size_t size)
{
    return hexEncode(digestOf(DigestAlgorithm::Sha256, data, size));
}

}  // namespace inkan::formats
