// ISO/IEC 7816-4 file reading shared by the card profiles (iso7816_files.hpp).
#include "daemon/card/iso7816_files.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <openssl/evp.h>

#include "daemon/card/status_words.hpp"
#include "daemon/error.hpp"

namespace inkan::card {

namespace {

using pcsc::ApduHeader;
using pcsc::ByteView;
using pcsc::CommandApdu;

// SELECT EF by file identifier under the current DF, no response data.
constexpr ApduHeader kSelectFile{0x00, 0xA4, 0x02, 0x0C};
// --- READ BINARY (ISO/IEC 7816-4 §11.3.3) ---------------------------------
// INS B0, offset in P1 P2 (15 bits: P1 bit 8 must be 0, ISO/IEC 7816-4 §11.3.3).
constexpr std::uint8_t kReadBinaryIns = 0xB0;
constexpr std::size_t kMaxReadOffset = 0x7FFF;
constexpr std::size_t kReadChunk = CommandApdu::kMaxShortLe;  // Le 00 = 256
// A certificate's DER header: SEQUENCE tag and a length of at most two bytes
// (30 82 LL LL), so the first four bytes tell the whole length.
constexpr std::size_t kCertificateHeaderLength = 4;
constexpr std::uint8_t kDerSequence = 0x30;
constexpr std::uint8_t kDerLongLength1 = 0x81;  // one length byte follows
constexpr std::uint8_t kDerLongLength2 = 0x82;  // two length bytes follow
// Certificates on cards are 1-2 KiB; anything past what READ BINARY can
// address is not a certificate we can read, and a lie we should not allocate for.
constexpr std::size_t kMaxCertificateLength = kMaxReadOffset + 1;

constexpr std::size_t kCardIdLength = 16;  // hex digits of the hash kept

// Reads `length` bytes from the start of the selected EF.
Bytes readFile(pcsc::ApduChannel& channel, std::size_t length, Bytes alreadyRead = {})
{
    Bytes content = std::move(alreadyRead);
    content.reserve(length);
    while (content.size() < length) {
        if (content.size() > kMaxReadOffset) throw Error(ErrorCode::CardError, "file too long for READ BINARY");
        const auto part = readBinary(channel, content.size(), std::min(kReadChunk, length - content.size()));
        // An empty answer with 9000 would make no progress: refuse rather than loop.
        if (part.empty()) throw Error(ErrorCode::CardError, "READ BINARY returned no data");
        content.insert(content.end(), part.begin(), part.end());
    }
    return content;
}

// The total length (header included) of the DER SEQUENCE starting with `header`.
std::size_t derLength(ByteView header)
{
    if (header.size() < 2 || header[0] != kDerSequence) {
        throw Error(ErrorCode::CardError, "the certificate file does not start with a DER SEQUENCE");
    }
    if (header[1] < 0x80) return 2 + header[1];
    if (header[1] == kDerLongLength1 && header.size() >= 3) return 3 + header[2];
    if (header[1] == kDerLongLength2 && header.size() >= 4) return 4 + ((std::size_t{header[2]} << 8) | header[3]);
    throw Error(ErrorCode::CardError, "the certificate file has an unsupported DER length");
}

}  // namespace

// Selects an EF; false when the card says it has no such file.
bool selectFile(pcsc::ApduChannel& channel, ByteView fileId)
{
    const auto response = channel.transmit(CommandApdu(kSelectFile, Bytes(fileId.begin(), fileId.end())));
    if (response.sw() == sw::kFileNotFound) return false;
    checkStatusWord(response.sw(), CardCommand::Select);
    return true;
}

Bytes readBinary(pcsc::ApduChannel& channel, std::size_t offset, std::size_t length)
{
    const ApduHeader header{0x00, kReadBinaryIns, static_cast<std::uint8_t>(offset >> 8),
                            static_cast<std::uint8_t>(offset & 0xFF)};
    auto response = channel.transmit(CommandApdu(header, {}, length));
    checkStatusWord(response.sw(), CardCommand::ReadBinary);
    if (response.data().size() > length) {
        throw Error(ErrorCode::CardError, "READ BINARY returned more bytes than asked for");
    }
    return response.takeData();
}

std::optional<Bytes> readCertificateFile(pcsc::ApduChannel& channel, ByteView fileId)
{
    if (!selectFile(channel, fileId)) return std::nullopt;
    // A file shorter than the header answers 6Cxx; the channel re-asks for
    // what is there, and derLength() refuses what is not a certificate.
    auto header = readBinary(channel, 0, kCertificateHeaderLength);
    const auto length = derLength(header);
    if (length > kMaxCertificateLength) throw Error(ErrorCode::CardError, "the certificate file is too long");
    if (header.size() > length) header.resize(length);
    return readFile(channel, length, std::move(header));
}

std::string cardIdFor(std::string_view space, ByteView value)
{
    Bytes input(space.begin(), space.end());
    input.insert(input.end(), value.begin(), value.end());
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> hash{};
    unsigned int hashLength = 0;
    if (EVP_Digest(input.data(), input.size(), hash.data(), &hashLength, EVP_sha256(), nullptr) != 1) {
        throw Error(ErrorCode::Internal, "SHA-256 failed");
    }
    return pcsc::toHex(ByteView(hash.data(), hashLength), false).substr(0, kCardIdLength);
}

}  // namespace inkan::card
