// inkan — trust anchors and intermediates (see trust_store.hpp).
#include "daemon/cert/trust_store.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <string_view>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "daemon/cert/registry_extensions.hpp"
#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"

namespace inkan::cert {
namespace {

// A root or intermediate is a few KiB; a bundle of them a few hundred. Bigger
// files in the anchors directory are not certificates we should parse.
constexpr std::uintmax_t kMaxTrustFileBytes = 4 * 1024 * 1024;

constexpr std::array<std::string_view, 3> kCertificateFileExtensions = {".pem", ".crt", ".cer"};

bool hasCertificateExtension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::find(kCertificateFileExtensions.begin(), kCertificateFileExtensions.end(), ext) !=
           kCertificateFileExtensions.end();
}

std::vector<ossl::X509Ptr> readCertificates(const std::filesystem::path& path) {
    std::vector<ossl::X509Ptr> out;
    std::ifstream in(path, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.empty()) {
        return out;
    }
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (text.find("-----BEGIN") != std::string_view::npos) {
        ossl::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
        while (bio) {
            ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
            if (!cert) break;
            out.push_back(std::move(cert));
        }
    } else {
        const unsigned char* p = bytes.data();
        ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
        if (cert && p == bytes.data() + bytes.size()) {
            out.push_back(std::move(cert));
        }
    }
    ERR_clear_error();  // PEM reading ends with a "no start line" error by design
    return out;
}

ossl::X509Ptr upRef(X509* cert) {
    X509_up_ref(cert);
    return ossl::X509Ptr(cert);
}

/// True when every critical extension OpenSSL does not handle is a registry
/// extension (and there is at least one such extension).
bool onlyRegistryExtensionsUnhandled(X509* cert) {
    bool sawRegistryExtension = false;
    for (int i = 0; i < X509_get_ext_count(cert); ++i) {
        X509_EXTENSION* ext = X509_get_ext(cert, i);
        if (X509_EXTENSION_get_critical(ext) != 1 || X509_supported_extension(ext) == 1) {
            continue;
        }
        if (!registry::isRegistryExtension(oidText(X509_EXTENSION_get_object(ext)))) {
            return false;
        }
        sawRegistryExtension = true;
    }
    return sawRegistryExtension;
}

}  // namespace

int verifyCallback(int ok, X509_STORE_CTX* ctx) {
    if (ok == 1) {
        return 1;
    }
    if (X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION) {
        X509* cert = X509_STORE_CTX_get_current_cert(ctx);
        if (cert != nullptr && onlyRegistryExtensionsUnhandled(cert)) {
            // These three are handled: by registry_extensions.cpp, which
            // decodes them for display. Clear the error so it is not reported
            // as the verification result.
            X509_STORE_CTX_set_error(ctx, X509_V_OK);
            return 1;
        }
    }
    return 0;
}

TrustStore TrustStore::fromDirectory(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
        throw Error(ErrorCode::Internal, "cannot read the trust anchors directory " + dir.string() + ": " +
                                             ec.message());
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : it) {
        if (entry.is_regular_file(ec) && hasCertificateExtension(entry.path())) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());  // deterministic order, whatever the filesystem says

    TrustStore store;
    for (const auto& file : files) {
        const auto size = std::filesystem::file_size(file, ec);
        auto certs = (ec || size > kMaxTrustFileBytes) ? std::vector<ossl::X509Ptr>{} : readCertificates(file);
        if (certs.empty()) {
            store.skipped_.push_back(file.string());
            continue;
        }
        for (auto& cert : certs) {
            store.add(std::move(cert));
        }
    }
    return store;
}

TrustStore TrustStore::fromCertificates(std::span<const std::vector<std::uint8_t>> ders) {
    TrustStore store;
    for (const auto& der : ders) {
        store.add(decodeDer(der));
    }
    return store;
}

void TrustStore::add(ossl::X509Ptr cert) {
    // X509_self_signed(cert, 1) also checks the signature, so a certificate
    // that merely copies a root's name is not mistaken for an anchor.
    const bool selfSigned = X509_self_signed(cert.get(), 1) == 1;
    ERR_clear_error();
    (selfSigned ? anchors_ : intermediates_).push_back(std::move(cert));
}

ossl::X509StorePtr TrustStore::makeStore() const {
    ossl::X509StorePtr store(X509_STORE_new());
    if (!store) {
        throw Error(ErrorCode::Internal, "out of memory");
    }
    for (const auto& anchor : anchors_) {
        if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
            // Only a duplicate can fail here; the first copy is in the store.
            ERR_clear_error();
        }
    }
    X509_STORE_set_verify_cb(store.get(), verifyCallback);
    return store;
}

ossl::X509StackPtr TrustStore::intermediates() const {
    ossl::X509StackPtr stack(sk_X509_new_null());
    if (!stack) {
        throw Error(ErrorCode::Internal, "out of memory");
    }
    for (const auto& cert : intermediates_) {
        ossl::X509Ptr ref = upRef(cert.get());
        if (sk_X509_push(stack.get(), ref.get()) <= 0) {
            throw Error(ErrorCode::Internal, "out of memory");
        }
        ref.release();  // now owned by the stack
    }
    return stack;
}

}  // namespace inkan::cert
