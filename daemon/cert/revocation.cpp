// inkan — OCSP and CRL revocation checking (see revocation.hpp).
#include "daemon/cert/revocation.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "daemon/cert/http_fetch.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"

namespace inkan::cert {
namespace {

using std::chrono::sys_seconds;

// RFC 6960 Appendix A.1 media types.
constexpr const char* kOcspRequestType = "application/ocsp-request";
constexpr const char* kOcspResponseType = "application/ocsp-response";

// CRLReason (RFC 5280 §5.3.1); 7 is not assigned.
constexpr int kReasonCertificateHold = 6;
constexpr std::array<std::string_view, 11> kReasonNames = {
    "unspecified", "keyCompromise", "cACompromise",  "affiliationChanged", "superseded", "cessationOfOperation",
    "certificateHold", "",          "removeFromCRL", "privilegeWithdrawn", "aACompromise"};

std::optional<std::string> reasonName(int code) {
    if (code < 0 || static_cast<std::size_t>(code) >= kReasonNames.size() || kReasonNames[code].empty()) {
        return std::nullopt;
    }
    return std::string(kReasonNames[code]);
}

/// What one source said, before it becomes part of a RevocationResult.
struct Evidence {
    RevocationStatus status = RevocationStatus::Unknown;
    UnknownCause cause = UnknownCause::None;
    std::string detail;
    std::optional<std::string> reason;
    std::optional<std::string> revocationTime;
    std::optional<sys_seconds> thisUpdate;
    std::optional<sys_seconds> nextUpdate;
    bool fromCache = false;
};

Evidence unknown(UnknownCause cause, std::string detail) {
    Evidence e;
    e.cause = cause;
    e.detail = std::move(detail);
    return e;
}

/// A revoked entry becomes revoked, or suspended for certificateHold (休止).
Evidence revokedEvidence(int reasonCode, const ASN1_TIME* when) {
    Evidence e;
    e.status = reasonCode == kReasonCertificateHold ? RevocationStatus::Suspended : RevocationStatus::Revoked;
    e.reason = reasonName(reasonCode);
    e.revocationTime = rfc3339(when);
    return e;
}

/// RFC 5280 §6.3.3 (a)(2) / RFC 6960 §3.2 (5)-(6): is the evidence current at `now`?
/// Empty when fresh, else why not.
std::optional<std::string> staleness(std::optional<sys_seconds> thisUpdate, std::optional<sys_seconds> nextUpdate,
                                     sys_seconds now, const RevocationConfig& config, bool nextUpdateRequired) {
    if (!thisUpdate) {
        return "thisUpdate is unreadable";
    }
    if (*thisUpdate > now + config.clockSkew) {
        return "thisUpdate " + rfc3339(*thisUpdate) + " is in the future";
    }
    if (nextUpdate) {
        if (*nextUpdate < *thisUpdate) {
            return "nextUpdate precedes thisUpdate";
        }
        if (now > *nextUpdate + config.clockSkew) {
            return "outdated since nextUpdate " + rfc3339(*nextUpdate);
        }
        return std::nullopt;
    }
    if (nextUpdateRequired) {
        return "no nextUpdate";
    }
    if (now > *thisUpdate + config.maxAgeWithoutNextUpdate + config.clockSkew) {
        return "produced at " + rfc3339(*thisUpdate) + " without nextUpdate, too old";
    }
    return std::nullopt;
}

/// The OCSP library reasons of the errors on the queue, which is emptied.
std::vector<int> drainOcspReasons(std::string& text) {
    std::vector<int> reasons;
    while (const unsigned long code = ERR_get_error()) {
        if (ERR_GET_LIB(code) == ERR_LIB_OCSP) {
            reasons.push_back(ERR_GET_REASON(code));
        }
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        text = buf.data();  // keep the last, most specific message
    }
    return reasons;
}

std::string hexOfDer(const OCSP_CERTID* id) {
    unsigned char* raw = nullptr;
    const int len = i2d_OCSP_CERTID(const_cast<OCSP_CERTID*>(id), &raw);
    if (len <= 0) {
        throw Error(ErrorCode::Internal, "cannot encode an OCSP CertID");
    }
    ossl::OpensslBytesPtr owned(raw);
    return hexUpper({raw, static_cast<std::size_t>(len)});
}

ossl::X509Ptr upRef(X509* cert) {
    X509_up_ref(cert);
    return ossl::X509Ptr(cert);
}

}  // namespace

struct RevocationChecker::Impl {
    struct CachedEvidence {
        Evidence evidence;
        sys_seconds until;
    };
    struct CachedCrl {
        ossl::X509CrlPtr crl;
        sys_seconds until;
    };

    RevocationConfig config;
    std::mutex mutex;
    std::map<std::string, CachedEvidence> ocspCache;  // key: CertID DER, hex
    std::map<std::string, CachedCrl> crlCache;        // key: URL

    sys_seconds now() const {
        const auto t = config.clock ? config.clock() : std::chrono::system_clock::now();
        return std::chrono::floor<std::chrono::seconds>(t);
    }

    http::FetchOptions fetchOptions(std::size_t maxBytes) const {
        return {config.timeout, maxBytes, config.httpProxy};
    }

    /// Drop evidence past its nextUpdate so the caches stay as small as the
    /// set of certificates in use. Call with `mutex` held.
    void pruneExpired(sys_seconds at) {
        std::erase_if(ocspCache, [at](const auto& entry) { return entry.second.until <= at; });
        std::erase_if(crlCache, [at](const auto& entry) { return entry.second.until <= at; });
    }

    Evidence ocsp(X509* cert, X509* issuer, const TrustStore& trust, const std::string& url, sys_seconds at);
    Evidence crl(X509* cert, X509* issuer, const std::string& url, sys_seconds at);
    ossl::X509CrlPtr fetchCrl(const std::string& url, sys_seconds at, bool& fromCache);
};

Evidence RevocationChecker::Impl::ocsp(X509* cert, X509* issuer, const TrustStore& trust, const std::string& url,
                                       sys_seconds at) {
    // CertID with SHA-1: what RFC 5019 §2.1.1 profiles and every responder understands.
    const ossl::OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert, issuer));
    if (!id) {
        ERR_clear_error();
        throw Error(ErrorCode::Internal, "cannot build an OCSP CertID");
    }
    const std::string cacheKey = hexOfDer(id.get());
    {
        const std::lock_guard lock(mutex);
        if (const auto it = ocspCache.find(cacheKey); it != ocspCache.end()) {
            if (at < it->second.until) {
                Evidence e = it->second.evidence;
                e.fromCache = true;
                return e;
            }
            ocspCache.erase(it);
        }
    }

    const ossl::OcspRequestPtr request(OCSP_REQUEST_new());
    ossl::OcspCertIdPtr requestId(OCSP_CERTID_dup(id.get()));
    if (!request || !requestId || OCSP_request_add0_id(request.get(), requestId.get()) == nullptr) {
        throw Error(ErrorCode::Internal, "cannot build an OCSP request");
    }
    requestId.release();  // owned by the request now
    if (config.sendNonce && OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1) {
        throw Error(ErrorCode::Internal, "cannot add an OCSP nonce");
    }
    unsigned char* rawRequest = nullptr;
    const int requestLen = i2d_OCSP_REQUEST(request.get(), &rawRequest);
    if (requestLen <= 0) {
        throw Error(ErrorCode::Internal, "cannot encode an OCSP request");
    }
    const ossl::OpensslBytesPtr requestDer(rawRequest);

    std::vector<std::uint8_t> body;
    try {
        body = http::post(url, {rawRequest, static_cast<std::size_t>(requestLen)}, kOcspRequestType,
                          kOcspResponseType, fetchOptions(config.maxOcspResponseBytes));
    } catch (const http::FetchError& e) {
        return unknown(UnknownCause::ResponderDown, e.what());
    }

    const unsigned char* p = body.data();
    const ossl::OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size())));
    if (!response || p != body.data() + body.size()) {
        ERR_clear_error();
        return unknown(UnknownCause::MalformedResponse, "not an OCSP response");
    }
    const int responseStatus = OCSP_response_status(response.get());
    if (responseStatus != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        return unknown(UnknownCause::ResponderError,
                       std::string("responder answered ") + OCSP_response_status_str(responseStatus));
    }
    const ossl::OcspBasicRespPtr basic(OCSP_response_get1_basic(response.get()));
    if (!basic) {
        ERR_clear_error();
        return unknown(UnknownCause::MalformedResponse, "not a basic OCSP response");
    }

    // RFC 6960 §3.2 (2)-(4): the signature verifies, and the signer is the
    // issuer itself or a responder the issuer delegated with id-kp-OCSPSigning
    // whose own chain leads to a trust anchor. OCSP_basic_verify does all of
    // it; no OCSP_TRUST* flag, so nothing is taken on faith.
    const ossl::X509StorePtr store = trust.makeStore();
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(at.time_since_epoch().count()));
    const ossl::X509StackPtr chainCerts = trust.intermediates();
    ossl::X509Ptr issuerRef = upRef(issuer);
    if (sk_X509_push(chainCerts.get(), issuerRef.get()) <= 0) {
        throw Error(ErrorCode::Internal, "out of memory");
    }
    issuerRef.release();
    ERR_clear_error();
    if (OCSP_basic_verify(basic.get(), chainCerts.get(), store.get(), 0) <= 0) {
        std::string text;
        const auto reasons = drainOcspReasons(text);
        const bool badSignature =
            std::find(reasons.begin(), reasons.end(), OCSP_R_SIGNATURE_FAILURE) != reasons.end();
        return unknown(badSignature ? UnknownCause::BadSignature : UnknownCause::UnauthorizedResponder,
                       "OCSP response not trusted: " + text);
    }

    // RFC 8954 §2.1: a nonce that comes back different means a replay.
    switch (OCSP_check_nonce(request.get(), basic.get())) {
        case 0: return unknown(UnknownCause::NonceMismatch, "the response carries a different nonce");
        case -1:
            if (config.requireNonce) {
                return unknown(UnknownCause::NonceMismatch, "the responder did not echo the nonce");
            }
            break;  // pre-produced response (RFC 5019 §2.2.1); freshness is checked below
        default: break;
    }

    int certStatus = -1;
    int reason = -1;
    ASN1_GENERALIZEDTIME* revokedAt = nullptr;
    ASN1_GENERALIZEDTIME* thisUpdate = nullptr;
    ASN1_GENERALIZEDTIME* nextUpdate = nullptr;
    if (OCSP_resp_find_status(basic.get(), id.get(), &certStatus, &reason, &revokedAt, &thisUpdate, &nextUpdate) !=
        1) {
        ERR_clear_error();
        return unknown(UnknownCause::MalformedResponse, "the response does not cover this certificate");
    }
    const auto thisUpdateTime = toSysSeconds(thisUpdate);
    const auto nextUpdateTime = nextUpdate != nullptr ? toSysSeconds(nextUpdate) : std::nullopt;
    if (nextUpdate != nullptr && !nextUpdateTime) {
        return unknown(UnknownCause::MalformedResponse, "unreadable nextUpdate");
    }
    if (auto why = staleness(thisUpdateTime, nextUpdateTime, at, config, /*nextUpdateRequired=*/false)) {
        return unknown(UnknownCause::Stale, "OCSP response " + *why);
    }

    Evidence e;
    switch (certStatus) {
        case V_OCSP_CERTSTATUS_GOOD: e.status = RevocationStatus::Good; break;
        case V_OCSP_CERTSTATUS_REVOKED: e = revokedEvidence(reason, revokedAt); break;
        default: return unknown(UnknownCause::NotKnownToResponder, "the responder does not know this certificate");
    }
    e.thisUpdate = thisUpdateTime;
    e.nextUpdate = nextUpdateTime;
    if (nextUpdateTime) {
        const std::lock_guard lock(mutex);
        pruneExpired(at);
        ocspCache[cacheKey] = {e, *nextUpdateTime};
    }
    return e;
}

ossl::X509CrlPtr RevocationChecker::Impl::fetchCrl(const std::string& url, sys_seconds at, bool& fromCache) {
    {
        const std::lock_guard lock(mutex);
        if (const auto it = crlCache.find(url); it != crlCache.end()) {
            if (at < it->second.until) {
                fromCache = true;
                X509_CRL_up_ref(it->second.crl.get());
                return ossl::X509CrlPtr(it->second.crl.get());
            }
            crlCache.erase(it);
        }
    }
    fromCache = false;
    const auto body = http::get(url, fetchOptions(config.maxCrlBytes));  // throws FetchError
    const unsigned char* p = body.data();
    ossl::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(body.size())));
    ERR_clear_error();
    if (crl && p != body.data() + body.size()) {
        crl.reset();
    }
    return crl;
}

Evidence RevocationChecker::Impl::crl(X509* cert, X509* issuer, const std::string& url, sys_seconds at) {
    bool fromCache = false;
    ossl::X509CrlPtr list;
    try {
        list = fetchCrl(url, at, fromCache);
    } catch (const http::FetchError& e) {
        return unknown(UnknownCause::ResponderDown, e.what());
    }
    if (!list) {
        return unknown(UnknownCause::MalformedResponse, "not a DER CRL");
    }

    // RFC 5280 §6.3.3 (f)-(g): the CRL is the issuer's and its signature verifies
    // with the issuer's key; only direct CRLs are accepted.
    if (X509_NAME_cmp(X509_CRL_get_issuer(list.get()), X509_get_subject_name(issuer)) != 0) {
        return unknown(UnknownCause::UnauthorizedResponder, "the CRL is issued by " +
                                                                distinguishedName(X509_CRL_get_issuer(list.get())) +
                                                                ", not by the certificate's issuer");
    }
    if ((X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
        return unknown(UnknownCause::UnauthorizedResponder, "the issuer's key usage does not allow cRLSign");
    }
    EVP_PKEY* issuerKey = X509_get0_pubkey(issuer);
    if (issuerKey == nullptr || X509_CRL_verify(list.get(), issuerKey) != 1) {
        ERR_clear_error();
        return unknown(UnknownCause::BadSignature, "the CRL signature does not verify with the issuer's key");
    }

    // Scope (RFC 5280 §5.2.4-5.2.5, §6.3.3 (b)): a delta CRL, an indirect CRL
    // or one limited to some reasons cannot prove "good".
    for (int i = 0; i < X509_CRL_get_ext_count(list.get()); ++i) {
        X509_EXTENSION* ext = X509_CRL_get_ext(list.get(), i);
        const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_delta_crl) {
            return unknown(UnknownCause::UnsupportedCrl, "delta CRLs are not supported");
        }
        if (X509_EXTENSION_get_critical(ext) == 1 && nid != NID_issuing_distribution_point &&
            X509_supported_extension(ext) != 1) {
            return unknown(UnknownCause::UnsupportedCrl,
                           "unhandled critical CRL extension " + oidText(X509_EXTENSION_get_object(ext)));
        }
    }
    int critical = 0;
    ossl::IssuingDistPointPtr idp(static_cast<ISSUING_DIST_POINT*>(
        X509_CRL_get_ext_d2i(list.get(), NID_issuing_distribution_point, &critical, nullptr)));
    ERR_clear_error();
    if (critical == -2) {
        return unknown(UnknownCause::MalformedResponse, "repeated issuingDistributionPoint");
    }
    if (idp) {
        const bool isCa = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
        if (idp->indirectCRL != 0 || idp->onlysomereasons != nullptr || idp->onlyattr != 0 ||
            (idp->onlyCA != 0 && !isCa) || (idp->onlyuser != 0 && isCa)) {
            return unknown(UnknownCause::UnsupportedCrl, "the CRL's scope does not cover this certificate");
        }
    }

    const auto thisUpdate = toSysSeconds(X509_CRL_get0_lastUpdate(list.get()));
    const ASN1_TIME* nextUpdateField = X509_CRL_get0_nextUpdate(list.get());
    const auto nextUpdate = nextUpdateField != nullptr ? toSysSeconds(nextUpdateField) : std::nullopt;
    // RFC 5280 §5.1.2.5: conforming CRL issuers include nextUpdate; without it
    // there is no telling how current the list is.
    if (auto why = staleness(thisUpdate, nextUpdate, at, config, /*nextUpdateRequired=*/true)) {
        return unknown(UnknownCause::Stale, "CRL " + *why);
    }
    if (!fromCache) {
        const std::lock_guard lock(mutex);
        pruneExpired(at);
        X509_CRL_up_ref(list.get());
        crlCache[url] = {ossl::X509CrlPtr(list.get()), *nextUpdate};
    }

    Evidence e;
    e.fromCache = fromCache;
    e.thisUpdate = thisUpdate;
    e.nextUpdate = nextUpdate;
    X509_REVOKED* entry = nullptr;
    const int found = X509_CRL_get0_by_serial(list.get(), &entry, X509_get0_serialNumber(cert));
    if (found == 1 && entry != nullptr) {
        int reasonCritical = 0;
        const ossl::Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &reasonCritical, nullptr)));
        ERR_clear_error();
        const int reasonCode = reason ? static_cast<int>(ASN1_ENUMERATED_get(reason.get())) : -1;
        Evidence revoked = revokedEvidence(reasonCode, X509_REVOKED_get0_revocationDate(entry));
        revoked.fromCache = e.fromCache;
        revoked.thisUpdate = e.thisUpdate;
        revoked.nextUpdate = e.nextUpdate;
        return revoked;
    }
    // found == 2 is removeFromCRL (delta CRLs only, refused above); 0 is absent.
    e.status = RevocationStatus::Good;
    return e;
}

std::string_view revocationStatusName(RevocationStatus status) {
    switch (status) {
        case RevocationStatus::Good: return "good";
        case RevocationStatus::Revoked: return "revoked";
        case RevocationStatus::Suspended: return "suspended";
        case RevocationStatus::Unknown: return "unknown";
    }
    return "unknown";
}

std::string_view unknownCauseName(UnknownCause cause) {
    switch (cause) {
        case UnknownCause::None: return "none";
        case UnknownCause::NoSource: return "noSource";
        case UnknownCause::UnsupportedUrl: return "unsupportedUrl";
        case UnknownCause::ResponderDown: return "responderDown";
        case UnknownCause::MalformedResponse: return "malformedResponse";
        case UnknownCause::ResponderError: return "responderError";
        case UnknownCause::BadSignature: return "badSignature";
        case UnknownCause::UnauthorizedResponder: return "unauthorizedResponder";
        case UnknownCause::NonceMismatch: return "nonceMismatch";
        case UnknownCause::Stale: return "stale";
        case UnknownCause::NotKnownToResponder: return "notKnownToResponder";
        case UnknownCause::UnsupportedCrl: return "unsupportedCrl";
    }
    return "none";
}

std::string_view revocationMethodName(RevocationMethod method) {
    return method == RevocationMethod::Ocsp ? "ocsp" : "crl";
}

RevocationChecker::RevocationChecker(RevocationConfig config) : impl_(std::make_unique<Impl>()) {
    impl_->config = std::move(config);
}

RevocationChecker::~RevocationChecker() = default;

void RevocationChecker::clearCache() {
    const std::lock_guard lock(impl_->mutex);
    impl_->ocspCache.clear();
    impl_->crlCache.clear();
}

RevocationResult RevocationChecker::check(const ChainResult& chain, const TrustStore& trust) {
    if (chain.chain.size() < 2) {
        RevocationResult result;
        result.cause = UnknownCause::NoSource;
        result.detail = "the chain has no issuer for its first certificate";
        result.checkedAt = rfc3339(impl_->now());
        return result;
    }
    return check(chain.chain[0].der, chain.chain[1].der, trust);
}

RevocationResult RevocationChecker::check(std::span<const std::uint8_t> certDer,
                                          std::span<const std::uint8_t> issuerDer, const TrustStore& trust) {
    const ossl::X509Ptr cert = decodeDer(certDer);
    const ossl::X509Ptr issuer = decodeDer(issuerDer);
    // Evidence about "the issuer's certificate with this serial" says nothing
    // about a certificate someone else issued: insist on the real pair.
    EVP_PKEY* issuerKey = X509_get0_pubkey(issuer.get());
    const bool issued = X509_check_issued(issuer.get(), cert.get()) == X509_V_OK && issuerKey != nullptr &&
                        X509_verify(cert.get(), issuerKey) == 1;
    ERR_clear_error();
    if (!issued) {
        throw Error(ErrorCode::BadRequest, "the given issuer did not issue this certificate");
    }
    const RevocationConfig& config = impl_->config;
    const sys_seconds at = impl_->now();

    RevocationResult result;
    result.checkedAt = rfc3339(at);
    for (const RevocationMethod method : config.order) {
        const bool isOcsp = method == RevocationMethod::Ocsp;
        // Configured URLs replace the certificate's: an operator who sets one
        // wants no request to go anywhere else.
        const std::optional<std::string>& configured = isOcsp ? config.ocspUrl : config.crlUrl;
        const std::vector<std::string> urls =
            configured ? std::vector<std::string>{*configured}
                       : (isOcsp ? ocspUrlsOf(cert.get()) : crlUrlsOf(cert.get()));

        bool triedOne = false;
        for (const std::string& url : urls) {
            if (!http::isFetchableUrl(url)) {
                continue;
            }
            triedOne = true;
            const Evidence e = isOcsp ? impl_->ocsp(cert.get(), issuer.get(), trust, url, at)
                                      : impl_->crl(cert.get(), issuer.get(), url, at);
            result.attempts.push_back({method, url, e.status, e.cause, e.detail, e.fromCache});
            if (e.status != RevocationStatus::Unknown) {
                result.status = e.status;
                result.source = method;
                result.url = url;
                result.reason = e.reason;
                result.revocationTime = e.revocationTime;
                result.thisUpdate = e.thisUpdate ? std::optional(rfc3339(*e.thisUpdate)) : std::nullopt;
                result.nextUpdate = e.nextUpdate ? std::optional(rfc3339(*e.nextUpdate)) : std::nullopt;
                result.fromCache = e.fromCache;
                result.detail = e.detail;
                return result;
            }
        }
        if (!triedOne) {
            const UnknownCause cause = urls.empty() ? UnknownCause::NoSource : UnknownCause::UnsupportedUrl;
            const std::string what = isOcsp ? "OCSP responder" : "CRL distribution point";
            result.attempts.push_back({method, urls.empty() ? std::string() : urls.front(),
                                       RevocationStatus::Unknown, cause,
                                       urls.empty() ? "no " + what + " URL" : "no http:// " + what + " URL", false});
        }
    }

    // Unknown: report the most telling cause — a source that answered badly
    // says more than a source that does not exist.
    result.status = RevocationStatus::Unknown;
    result.cause = UnknownCause::NoSource;
    result.detail = "no revocation source";
    const auto isAbsent = [](const RevocationAttempt& a) {
        return a.cause == UnknownCause::NoSource || a.cause == UnknownCause::UnsupportedUrl;
    };
    const auto telling = std::find_if_not(result.attempts.begin(), result.attempts.end(), isAbsent);
    const auto chosen = telling != result.attempts.end() ? telling : result.attempts.begin();
    if (chosen != result.attempts.end()) {
        result.cause = chosen->cause;
        result.detail = chosen->detail;
    }
    if (telling == result.attempts.end() && result.attempts.size() > 1) {
        result.detail = "no usable OCSP or CRL URL";
    }
    return result;
}

}  // namespace inkan::cert
