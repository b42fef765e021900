// inkan — OpenSSL-to-text conversions shared by daemon/cert/.
#include "daemon/cert/x509_util.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "daemon/cert/utf8.hpp"
#include "daemon/error.hpp"

namespace inkan::cert {
namespace {

std::string bioContents(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

/// An IA5String URI, only if every byte is printable ASCII.
std::optional<std::string> asciiUri(const ASN1_IA5STRING* uri) {
    if (uri == nullptr) {
        return std::nullopt;
    }
    const unsigned char* data = ASN1_STRING_get0_data(uri);
    const int len = ASN1_STRING_length(uri);
    if (len <= 0) {
        return std::nullopt;
    }
    std::string out(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
    for (const char c : out) {
        if (c <= 0x20 || c >= 0x7F) {
            return std::nullopt;
        }
    }
    return out;
}

std::vector<std::string> aiaUrls(X509* x509, int methodNid) {
    std::vector<std::string> out;
    ossl::AuthorityInfoAccessPtr aia(static_cast<AUTHORITY_INFO_ACCESS*>(
        X509_get_ext_d2i(x509, NID_info_access, nullptr, nullptr)));
    ERR_clear_error();
    if (!aia) {
        return out;
    }
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
        const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
        if (OBJ_obj2nid(ad->method) == methodNid && ad->location->type == GEN_URI) {
            if (auto uri = asciiUri(ad->location->d.uniformResourceIdentifier)) {
                out.push_back(std::move(*uri));
            }
        }
    }
    return out;
}

}  // namespace

ossl::X509Ptr decodeDer(std::span<const std::uint8_t> der) {
    if (der.empty()) {
        throw Error(ErrorCode::BadRequest, "not an X.509 certificate: empty input");
    }
    const unsigned char* p = der.data();
    ossl::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    ERR_clear_error();
    if (!x509) {
        throw Error(ErrorCode::BadRequest, "not an X.509 certificate: DER decoding failed");
    }
    // Trailing bytes mean the caller handed us something else (a chain, a
    // container): refuse instead of silently reading only the first part.
    if (p != der.data() + der.size()) {
        throw Error(ErrorCode::BadRequest, "not an X.509 certificate: trailing bytes after the certificate");
    }
    return x509;
}

std::vector<std::uint8_t> encodeDer(X509* x509) {
    unsigned char* raw = nullptr;
    const int len = i2d_X509(x509, &raw);
    if (len <= 0) {
        throw Error(ErrorCode::Internal, "cannot encode a certificate");
    }
    ossl::OpensslBytesPtr owned(raw);
    return {raw, raw + len};
}

std::string distinguishedName(const X509_NAME* name) {
    // RFC 4514 order and escaping, but multi-byte characters left as UTF-8
    // (ESC_MSB would turn 東京 into \E6\9D\B1...), so Japanese reads as text.
    constexpr unsigned long kUtf8Flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    // OpenSSL refuses to print a UTF8String that is not UTF-8 in that mode;
    // the all-escaped form still shows such a name, in ASCII.
    for (const unsigned long flags : {kUtf8Flags, static_cast<unsigned long>(XN_FLAG_RFC2253)}) {
        ossl::BioPtr bio(BIO_new(BIO_s_mem()));
        if (!bio) {
            throw Error(ErrorCode::Internal, "out of memory");
        }
        if (X509_NAME_print_ex(bio.get(), name, 0, flags) >= 0) {
            ERR_clear_error();
            return utf8::sanitize(bioContents(bio.get()));
        }
        ERR_clear_error();
    }
    throw Error(ErrorCode::BadRequest, "not an X.509 certificate: unprintable distinguished name");
}

std::optional<std::string> tryAsn1StringToUtf8(const ASN1_STRING* str) {
    if (str == nullptr) {
        return std::nullopt;
    }
    unsigned char* raw = nullptr;
    const int len = ASN1_STRING_to_UTF8(&raw, str);
    if (len < 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    ossl::OpensslBytesPtr owned(raw);
    // Controls pass through OpenSSL's conversion; sanitize() also covers any
    // invalid sequence a future OpenSSL might let by.
    return utf8::sanitize({reinterpret_cast<const char*>(raw), static_cast<std::size_t>(len)});
}

std::string asn1StringToUtf8(const ASN1_STRING* str) { return tryAsn1StringToUtf8(str).value_or(""); }

std::string oidText(const ASN1_OBJECT* obj) {
    if (obj == nullptr) {
        return {};
    }
    // First call sizes the buffer: OIDs have no practical length limit.
    const int needed = OBJ_obj2txt(nullptr, 0, obj, 1);
    if (needed <= 0) {
        return {};
    }
    std::string out(static_cast<std::size_t>(needed) + 1, '\0');
    const int written = OBJ_obj2txt(out.data(), static_cast<int>(out.size()), obj, 1);
    out.resize(written > 0 ? static_cast<std::size_t>(written) : 0);
    return out;
}

std::optional<std::chrono::sys_seconds> toSysSeconds(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                             day{static_cast<unsigned>(tm.tm_mday)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

std::string rfc3339(std::chrono::sys_seconds time) {
    using namespace std::chrono;
    const sys_days day = floor<days>(time);
    const year_month_day ymd{day};
    const hh_mm_ss hms{time - day};
    std::array<char, 32> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::optional<std::string> rfc3339(const ASN1_TIME* time) {
    const auto t = toSysSeconds(time);
    if (!t) {
        return std::nullopt;
    }
    return rfc3339(*t);
}

std::string hexUpper(std::span<const std::uint8_t> bytes) {
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0F]);
    }
    return out;
}

std::string serialHex(const ASN1_INTEGER* serial) {
    ossl::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) {
        ERR_clear_error();
        throw Error(ErrorCode::BadRequest, "not an X.509 certificate: unreadable serial number");
    }
    ossl::OpensslCharsPtr hex(BN_bn2hex(bn.get()));  // upper-case already
    if (!hex) {
        throw Error(ErrorCode::Internal, "cannot format a serial number");
    }
    return hex.get();
}

std::vector<std::string> ocspUrlsOf(X509* x509) { return aiaUrls(x509, NID_ad_OCSP); }

std::vector<std::string> caIssuersUrlsOf(X509* x509) { return aiaUrls(x509, NID_ad_ca_issuers); }

std::vector<std::string> crlUrlsOf(X509* x509) {
    std::vector<std::string> out;
    ossl::CrlDistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
        X509_get_ext_d2i(x509, NID_crl_distribution_points, nullptr, nullptr)));
    ERR_clear_error();
    if (!points) {
        return out;
    }
    for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
        const DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);
        // Only fullName (RFC 5280 §4.2.1.13 choice 0); nameRelativeToCRLIssuer
        // gives no location.
        if (point->distpoint == nullptr || point->distpoint->type != 0) {
            continue;
        }
        const GENERAL_NAMES* names = point->distpoint->name.fullname;
        for (int n = 0; n < sk_GENERAL_NAME_num(names); ++n) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, n);
            if (name->type == GEN_URI) {
                if (auto uri = asciiUri(name->d.uniformResourceIdentifier)) {
                    out.push_back(std::move(*uri));
                }
            }
        }
    }
    return out;
}

}  // namespace inkan::cert
