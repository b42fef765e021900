// inkan — path validation with OpenSSL's X509_STORE_CTX.
#include "daemon/cert/chain.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"

namespace inkan::cert {
namespace {

/// The one place verifier error codes become inkan's reasons.
ChainFailure failureOf(int error) {
    switch (error) {
        case X509_V_OK: return ChainFailure::None;
        case X509_V_ERR_CERT_HAS_EXPIRED: return ChainFailure::Expired;
        case X509_V_ERR_CERT_NOT_YET_VALID: return ChainFailure::NotYetValid;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_CERT_UNTRUSTED:
        case X509_V_ERR_CERT_CHAIN_TOO_LONG: return ChainFailure::UnknownIssuer;
        case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION: return ChainFailure::UnhandledCriticalExtension;
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        case X509_V_ERR_CA_MD_TOO_WEAK:
        case X509_V_ERR_EE_KEY_TOO_SMALL:
        case X509_V_ERR_CA_KEY_TOO_SMALL: return ChainFailure::BadSignature;
        case X509_V_ERR_INVALID_CA:
        case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        case X509_V_ERR_INVALID_NON_CA: return ChainFailure::InvalidCa;
        case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
        case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        case X509_V_ERR_INVALID_EXTENSION: return ChainFailure::Malformed;
        default: return ChainFailure::Other;
    }
}

ChainLink linkOf(X509* cert, bool anchor) {
    ChainLink link;
    link.subject = distinguishedName(X509_get_subject_name(cert));
    link.issuer = distinguishedName(X509_get_issuer_name(cert));
    link.serialNumber = serialHex(X509_get0_serialNumber(cert));
    link.notAfter = rfc3339(X509_get0_notAfter(cert)).value_or("");
    link.trustAnchor = anchor;
    link.der = encodeDer(cert);
    return link;
}

}  // namespace

std::string_view chainFailureName(ChainFailure failure) {
    switch (failure) {
        case ChainFailure::None: return "none";
        case ChainFailure::Expired: return "expired";
        case ChainFailure::NotYetValid: return "notYetValid";
        case ChainFailure::UnknownIssuer: return "unknownIssuer";
        case ChainFailure::UnhandledCriticalExtension: return "unhandledCriticalExtension";
        case ChainFailure::BadSignature: return "badSignature";
        case ChainFailure::InvalidCa: return "invalidCa";
        case ChainFailure::Malformed: return "malformed";
        case ChainFailure::Other: return "other";
    }
    return "other";
}

ChainResult validateChain(std::span<const std::uint8_t> leafDer,
                          std::span<const std::vector<std::uint8_t>> extraCertsDer, const TrustStore& trust,
                          std::optional<std::chrono::system_clock::time_point> at) {
    const ossl::X509Ptr leaf = decodeDer(leafDer);
    ossl::X509StackPtr untrusted = trust.intermediates();
    for (const auto& der : extraCertsDer) {
        ossl::X509Ptr extra = decodeDer(der);
        if (sk_X509_push(untrusted.get(), extra.get()) <= 0) {
            throw Error(ErrorCode::Internal, "out of memory");
        }
        extra.release();  // owned by the stack
    }

    const ossl::X509StorePtr store = trust.makeStore();
    const ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
        throw Error(ErrorCode::Internal, "cannot set up certificate verification");
    }
    const auto when = std::chrono::floor<std::chrono::seconds>(at.value_or(std::chrono::system_clock::now()));
    // Always pin the time (sets X509_V_FLAG_USE_CHECK_TIME): the reported
    // checkedAt is then exactly the time the verifier used.
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                               static_cast<time_t>(when.time_since_epoch().count()));

    const int verified = X509_verify_cert(ctx.get());
    const int error = X509_STORE_CTX_get_error(ctx.get());

    ChainResult result;
    result.checkedAt = rfc3339(when);
    result.valid = verified == 1 && error == X509_V_OK;
    result.reason = result.valid ? ChainFailure::None : failureOf(error);
    if (!result.valid) {
        result.detail = error != X509_V_OK ? X509_verify_cert_error_string(error) : "verification failed";
        result.failingDepth = X509_STORE_CTX_get_error_depth(ctx.get());
    }
    const ossl::X509StackPtr chain(X509_STORE_CTX_get1_chain(ctx.get()));
    const int length = chain ? sk_X509_num(chain.get()) : 0;
    for (int i = 0; i < length; ++i) {
        X509* cert = sk_X509_value(chain.get(), i);
        // Only the top of a verified chain is an anchor (X509_V_FLAG_PARTIAL_CHAIN is off).
        const bool anchor = result.valid && i == length - 1;
        result.chain.push_back(linkOf(cert, anchor));
    }
    ERR_clear_error();
    return result;
}

ChainResult validateChain(std::span<const std::uint8_t> leafDer,
                          std::span<const std::vector<std::uint8_t>> extraCertsDer,
                          const std::filesystem::path& trustAnchorsDir,
                          std::optional<std::chrono::system_clock::time_point> at) {
    return validateChain(leafDer, extraCertsDer, TrustStore::fromDirectory(trustAnchorsDir), at);
}

}  // namespace inkan::cert
