// inkan — a PKCS#12 file (.p12/.pfx), as the 商業登記電子証明書 is kept on a
// computer: opened with its password in memory only, checked, signed with,
// and written again under a new password. Knows no HTTP and no state directory.
#pragma once

#include <string>
#include <vector>

#include "daemon/card/types.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/pcsc/bytes.hpp"
#include "daemon/secret.hpp"

namespace inkan::credentials {

/// A file's key and certificate, decrypted for one operation. The key lives
/// in OpenSSL's memory, which clears private key material when it is freed.
struct OpenedPkcs12 {
    ossl::EvpPkeyPtr key;
    Bytes certificate;                // DER
    std::vector<Bytes> chain;         // the other certificates in the file, DER
};

/// Opens `file` with `password`. Throws inkan::Error:
///   PinIncorrect      the password is wrong (the file's MAC does not verify);
///   CredentialInvalid not a PKCS#12 file, no key or no certificate in it,
///                     several keys, or a certificate that is not the key's.
/// Files with legacy encryption (RC2-40, 3DES; OpenSSL's legacy provider) and
/// with AES-256 both open.
OpenedPkcs12 openPkcs12(pcsc::ByteView file, const Secret& password);

/// Why a key is not one inkan signs with (RSA of at least 2048 bits, EC
/// P-256 or P-384); empty when it is.
std::string keyProblem(EVP_PKEY* key);

/// The file `opened` written anew under `password`: AES-256-CBC with
/// PBKDF2 for the key and certificates, an HMAC-SHA-256 MAC.
Bytes writePkcs12(const OpenedPkcs12& opened, const Secret& password);

/// Signs `digest` (exactly the algorithm's length): RSASSA-PKCS1-v1_5 for
/// an RSA key, ECDSA (DER) for an EC key. `algorithm` receives the
/// signature algorithm's name, e.g. "RSASSA-PKCS1-v1_5-SHA-256".
Bytes signDigest(EVP_PKEY* key, DigestAlgorithm digestAlgorithm, pcsc::ByteView digest, std::string& algorithm);

}  // namespace inkan::credentials
