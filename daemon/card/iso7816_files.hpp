// inkan — reading a card's elementary files the ISO/IEC 7816-4 way, as every
// card profile here does: SELECT an EF by its file identifier, READ BINARY
// in chunks, a certificate file sized by its DER header. A profile selects
// its application first; these know no application.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/card/types.hpp"
#include "daemon/pcsc/apdu_channel.hpp"

namespace inkan::card {

/// SELECT EF by file identifier under the current DF (00 A4 02 0C, no
/// response data); false when the card has no such file (6A82).
bool selectFile(pcsc::ApduChannel& channel, pcsc::ByteView fileId);

/// READ BINARY of `length` bytes (at most 256) at `offset` of the selected EF.
Bytes readBinary(pcsc::ApduChannel& channel, std::size_t offset, std::size_t length);

/// Selects `fileId` and reads the DER certificate in it: a 4-byte READ
/// BINARY of its header tells the length, then the rest in 256-byte chunks.
/// None when the file does not exist.
std::optional<Bytes> readCertificateFile(pcsc::ApduChannel& channel, pcsc::ByteView fileId);

/// A card id: the first 16 lower-case hex digits of SHA-256(`space` || `value`).
/// Hashing keeps serials out of URLs and logs; the profile's `space` keeps
/// ids of different profiles apart.
std::string cardIdFor(std::string_view space, pcsc::ByteView value);

}  // namespace inkan::card
