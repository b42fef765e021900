// inkan — DigestInfo for RSASSA-PKCS1-v1_5 (RFC 8017 §9.2).
//
// Cards that "sign a digest" with PKCS#1 v1.5 expect the DER DigestInfo
// (AlgorithmIdentifier of the hash + the hash value); the card adds the
// padding. The prefixes are the fixed DER encodings listed in RFC 8017 §9.2,
// note 1: everything up to and including the OCTET STRING header of the hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/pcsc/bytes.hpp"
#include "daemon/card/types.hpp"

namespace inkan::card {

// SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.1 (sha256), NULL }, OCTET STRING (32) }
inline constexpr std::array<std::uint8_t, 19> kDigestInfoPrefixSha256{
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
// SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.2 (sha384), NULL }, OCTET STRING (48) }
inline constexpr std::array<std::uint8_t, 19> kDigestInfoPrefixSha384{
    0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
// SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.3 (sha512), NULL }, OCTET STRING (64) }
inline constexpr std::array<std::uint8_t, 19> kDigestInfoPrefixSha512{
    0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

/// "SHA-256", "SHA-384", "SHA-512".
std::string_view digestAlgorithmName(DigestAlgorithm algorithm);

/// 32, 48 or 64 bytes.
std::size_t digestLength(DigestAlgorithm algorithm);

/// The DER DigestInfo for `digest`. Throws inkan::Error(BadRequest) when the
/// digest does not have the algorithm's length: signing a truncated or padded
/// value would produce a valid-looking signature over something else.
Bytes digestInfo(DigestAlgorithm algorithm, pcsc::ByteView digest);

}  // namespace inkan::card
