// inkan fuzz target: the pdf format's reading of a PDF (bytes from any caller
// of POST /v1/cards/{cardId}/signatures) through qpdf with inkan's checks
// (header, no repair, encryption, pages, DocMDP, startxref), and the
// incremental update laid out over it.
//
// It must never crash, and it must refuse only with DOCUMENT_INVALID: any
// other error (a qpdf exception let through, an update that cannot be laid
// out) is a broken promise. What it accepts must prepare a SHA-256 digest.
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_pdf_replay and run over tests/fuzz/seeds/pdf/ by ctest (fuzz.replay).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "daemon/error.hpp"
#include "daemon/formats/pdf_document.hpp"

namespace {

/// A self-signed RSA certificate made once: prepare() sizes /Contents from it.
const inkan::Bytes& signerCertificate()
{
    static const inkan::Bytes der = [] {
        EVP_PKEY* key = EVP_RSA_gen(1024);
        X509* x509 = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
        X509_gmtime_adj(X509_getm_notBefore(x509), 0);
        X509_gmtime_adj(X509_getm_notAfter(x509), 3600);
        X509_set_pubkey(x509, key);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x509), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
        X509_set_issuer_name(x509, X509_get_subject_name(x509));
        if (key == nullptr || X509_sign(x509, key, EVP_sha256()) <= 0) std::abort();
        unsigned char* out = nullptr;
        const int length = i2d_X509(x509, &out);
        inkan::Bytes bytes(out, out + length);
        OPENSSL_free(out);
        X509_free(x509);
        EVP_PKEY_free(key);
        return bytes;
    }();
    return der;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace inkan;
    const Bytes input(data, data + size);
    try {
        formats::PdfDocument document(input, "", {"reason", "location", size % 2 == 0}, 0);
        const Bytes digest = document.prepare({"sign", signerCertificate(), {}});
        if (digest.size() != 32) std::abort();
    } catch (const Error& error) {
        if (error.code() != ErrorCode::DocumentInvalid) {
            std::fprintf(stderr, "fuzz_pdf: %s on %zu bytes\n", error.what(), size);
            std::abort();
        }
    }
    return 0;
}
