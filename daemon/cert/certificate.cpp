// inkan — X.509 parsing: DER in, CertificateInfo out.
#include "daemon/cert/certificate.hpp"

#include <arpa/inet.h>

#include <array>
#include <set>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/cert/registry_extensions.hpp"
#include "daemon/cert/x509_util.hpp"
#include "daemon/error.hpp"

namespace inkan::cert {
namespace {

// KeyUsage bits (RFC 5280 §4.2.1.3), in bit order.
constexpr std::array<std::string_view, 9> kKeyUsageNames = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly"};

constexpr std::size_t kMaxEcGroupNameLength = 80;

std::span<const std::uint8_t> extensionValue(const X509_EXTENSION* ext) {
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(const_cast<X509_EXTENSION*>(ext));
    return {ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data))};
}

/// Decode an extension OpenSSL has a method for; null (and no error left on the
/// queue) when the contents are malformed.
template <typename T>
T* openSslDecode(X509_EXTENSION* ext) {
    void* decoded = X509V3_EXT_d2i(ext);
    ERR_clear_error();
    return static_cast<T*>(decoded);
}

PublicKeyInfo publicKeyOf(X509* x509) {
    PublicKeyInfo key;
    EVP_PKEY* pkey = X509_get0_pubkey(x509);  // owned by x509
    ERR_clear_error();
    if (pkey == nullptr) {
        // An algorithm OpenSSL cannot load: still name it by its OID.
        ASN1_OBJECT* alg = nullptr;
        if (X509_PUBKEY_get0_param(&alg, nullptr, nullptr, nullptr, X509_get_X509_PUBKEY(x509)) == 1) {
            key.type = oidText(alg);
        }
        return key;
    }
    key.bits = EVP_PKEY_get_bits(pkey);
    switch (EVP_PKEY_get_base_id(pkey)) {
        case EVP_PKEY_RSA:
        case EVP_PKEY_RSA_PSS: key.type = "RSA"; break;
        case EVP_PKEY_EC: {
            key.type = "EC";
            std::array<char, kMaxEcGroupNameLength> group{};
            std::size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                               &len) == 1) {
                key.curve = std::string(group.data(), len);
            }
            ERR_clear_error();
            break;
        }
        case EVP_PKEY_ED25519: key.type = "Ed25519"; break;
        case EVP_PKEY_ED448: key.type = "Ed448"; break;
        case EVP_PKEY_DSA: key.type = "DSA"; break;
        default: {
            const char* name = EVP_PKEY_get0_type_name(pkey);
            key.type = name != nullptr ? name : "unknown";
        }
    }
    return key;
}

std::string signatureAlgorithmOf(const X509* x509) {
    const int nid = X509_get_signature_nid(x509);
    if (nid != NID_undef) {
        return OBJ_nid2ln(nid);
    }
    const X509_ALGOR* alg = nullptr;
    X509_get0_signature(nullptr, &alg, x509);
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
    return oidText(oid);
}

std::string ipText(const ASN1_OCTET_STRING* ip) {
    const int len = ASN1_STRING_length(ip);
    const unsigned char* data = ASN1_STRING_get0_data(ip);
    std::array<char, INET6_ADDRSTRLEN> buf{};
    if (len == 4 && inet_ntop(AF_INET, data, buf.data(), buf.size()) != nullptr) {
        return buf.data();
    }
    if (len == 16 && inet_ntop(AF_INET6, data, buf.data(), buf.size()) != nullptr) {
        return buf.data();
    }
    return hexUpper({data, static_cast<std::size_t>(len > 0 ? len : 0)});
}

OtherName otherNameOf(const OTHERNAME* other) {
    OtherName out;
    out.oid = oidText(other->type_id);
    const ASN1_TYPE* value = other->value;
    if (value == nullptr) {
        return out;
    }
    switch (value->type) {
        case V_ASN1_UTF8STRING:
        case V_ASN1_PRINTABLESTRING:
        case V_ASN1_IA5STRING:
        case V_ASN1_T61STRING:
        case V_ASN1_BMPSTRING:
        case V_ASN1_UNIVERSALSTRING:
        case V_ASN1_VISIBLESTRING:
        case V_ASN1_NUMERICSTRING:
            if (auto text = tryAsn1StringToUtf8(value->value.asn1_string)) {
                out.value = std::move(*text);
                out.isString = true;
                return out;
            }
            break;  // not convertible: shown as DER below
        default: break;
    }
    unsigned char* raw = nullptr;
    const int len = i2d_ASN1_TYPE(value, &raw);
    if (len > 0) {
        ossl::OpensslBytesPtr owned(raw);
        out.value = hexUpper({raw, static_cast<std::size_t>(len)});
    }
    ERR_clear_error();
    return out;
}

SubjectAltNames altNamesOf(const GENERAL_NAMES* names) {
    SubjectAltNames out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        switch (name->type) {
            case GEN_EMAIL: out.email.push_back(asn1StringToUtf8(name->d.rfc822Name)); break;
            case GEN_DNS: out.dns.push_back(asn1StringToUtf8(name->d.dNSName)); break;
            case GEN_URI: out.uri.push_back(asn1StringToUtf8(name->d.uniformResourceIdentifier)); break;
            case GEN_IPADD: out.ip.push_back(ipText(name->d.iPAddress)); break;
            case GEN_DIRNAME: out.directoryName.push_back(distinguishedName(name->d.directoryName)); break;
            case GEN_OTHERNAME: out.otherName.push_back(otherNameOf(name->d.otherName)); break;
            default: break;  // x400Address, ediPartyName, registeredID: not shown
        }
    }
    return out;
}

/// Fill `info` from one extension; false when its contents could not be decoded.
bool decodeExtension(CertificateInfo& info, X509_EXTENSION* ext, std::string_view oid) {
    const bool critical = X509_EXTENSION_get_critical(ext) == 1;
    const auto value = extensionValue(ext);

    if (oid == registry::kCertificatePoliciesJpOid) {
        auto policies = registry::decodePolicies(value);
        if (!policies) return false;
        info.registry.certificatePoliciesJP = std::move(*policies);
        return true;
    }
    if (oid == registry::kRegistrarJpOid) {
        info.registry.registrar = registry::decodeRegistrar(value);
        return info.registry.registrar.has_value();
    }
    if (oid == registry::kRegisteredCorporationInfoOid) {
        info.registry.corporation = registry::decodeRegisteredCorporationInfo(value);
        return info.registry.corporation.has_value();
    }

    switch (OBJ_obj2nid(X509_EXTENSION_get_object(ext))) {
        case NID_basic_constraints: {
            ossl::BasicConstraintsPtr bc(openSslDecode<BASIC_CONSTRAINTS>(ext));
            if (!bc) return false;
            BasicConstraints out;
            out.ca = bc->ca != 0;
            out.critical = critical;
            if (bc->pathlen != nullptr) {
                const long len = ASN1_INTEGER_get(bc->pathlen);
                if (len < 0) return false;
                out.pathLength = len;
            }
            info.basicConstraints = out;
            return true;
        }
        case NID_key_usage: {
            ossl::Asn1BitStringPtr bits(openSslDecode<ASN1_BIT_STRING>(ext));
            if (!bits) return false;
            for (std::size_t bit = 0; bit < kKeyUsageNames.size(); ++bit) {
                if (ASN1_BIT_STRING_get_bit(bits.get(), static_cast<int>(bit)) == 1) {
                    info.keyUsage.emplace_back(kKeyUsageNames[bit]);
                }
            }
            return true;
        }
        case NID_ext_key_usage: {
            ossl::ExtendedKeyUsagePtr eku(openSslDecode<EXTENDED_KEY_USAGE>(ext));
            if (!eku) return false;
            for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
                const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku.get(), i);
                const int nid = OBJ_obj2nid(obj);
                info.extendedKeyUsage.push_back({oidText(obj), nid != NID_undef ? OBJ_nid2sn(nid) : ""});
            }
            return true;
        }
        case NID_certificate_policies: {
            auto policies = registry::decodePolicies(value);
            if (!policies) return false;
            info.certificatePolicies = std::move(*policies);
            return true;
        }
        case NID_info_access: {
            ossl::AuthorityInfoAccessPtr aia(openSslDecode<AUTHORITY_INFO_ACCESS>(ext));
            return aia != nullptr;  // URLs are read by ocspUrlsOf()/caIssuersUrlsOf()
        }
        case NID_crl_distribution_points: {
            ossl::CrlDistPointsPtr cdp(openSslDecode<CRL_DIST_POINTS>(ext));
            return cdp != nullptr;  // URLs are read by crlUrlsOf()
        }
        case NID_subject_alt_name: {
            ossl::GeneralNamesPtr names(openSslDecode<GENERAL_NAMES>(ext));
            if (!names) return false;
            info.subjectAltNames = altNamesOf(names.get());
            return true;
        }
        default: {
            // Other extensions OpenSSL knows (SKI, AKI, ...): decodable or not.
            if (X509V3_EXT_get(ext) == nullptr) {
                return true;  // shown by OID only
            }
            void* decoded = X509V3_EXT_d2i(ext);
            ERR_clear_error();
            if (decoded == nullptr) return false;
            // Free through the method's own free function: the type is opaque here.
            const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
            if (method->it != nullptr) {
                ASN1_item_free(static_cast<ASN1_VALUE*>(decoded), ASN1_ITEM_ptr(method->it));
            } else if (method->ext_free != nullptr) {
                method->ext_free(decoded);
            }
            return true;
        }
    }
}

std::string extensionDisplayName(X509_EXTENSION* ext, std::string_view oid) {
    if (const auto name = registry::extensionName(oid); !name.empty()) {
        return std::string(name);
    }
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    return nid != NID_undef ? OBJ_nid2sn(nid) : "";
}

void describeExtensions(CertificateInfo& info, X509* x509) {
    std::set<std::string> seen;
    for (int i = 0; i < X509_get_ext_count(x509); ++i) {
        X509_EXTENSION* ext = X509_get_ext(x509, i);
        const std::string oid = oidText(X509_EXTENSION_get_object(ext));
        ExtensionSummary summary;
        summary.id = {oid, extensionDisplayName(ext, oid)};
        summary.critical = X509_EXTENSION_get_critical(ext) == 1;
        // RFC 5280 §4.2: an extension appears at most once. A second copy is
        // reported, never allowed to overwrite what the first one said.
        summary.decoded = seen.insert(oid).second && decodeExtension(info, ext, oid);
        if (!summary.decoded && registry::isRegistryExtension(oid)) {
            info.registry.undecodable.push_back(oid);
        }
        info.extensions.push_back(std::move(summary));
    }
}

CertificateInfo describe(X509* x509, std::span<const std::uint8_t> der) {
    CertificateInfo info;
    info.subject = distinguishedName(X509_get_subject_name(x509));
    info.issuer = distinguishedName(X509_get_issuer_name(x509));

    // The most specific CN is the last one (RFC 6125 §2.3.1 ordering note).
    const X509_NAME* subject = X509_get_subject_name(x509);
    int cnIndex = -1;
    for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
        cnIndex = i;
    }
    if (cnIndex >= 0) {
        info.subjectCommonName =
            asn1StringToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cnIndex)));
    }

    info.serialNumber = serialHex(X509_get0_serialNumber(x509));

    const auto notBefore = toSysSeconds(X509_get0_notBefore(x509));
    const auto notAfter = toSysSeconds(X509_get0_notAfter(x509));
    if (!notBefore || !notAfter) {
        throw Error(ErrorCode::BadRequest, "not an X.509 certificate: unreadable validity period");
    }
    info.notBeforeTime = *notBefore;
    info.notAfterTime = *notAfter;
    info.notBefore = rfc3339(*notBefore);
    info.notAfter = rfc3339(*notAfter);

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digestLen = 0;
    if (EVP_Digest(der.data(), der.size(), digest.data(), &digestLen, EVP_sha256(), nullptr) != 1) {
        throw Error(ErrorCode::Internal, "SHA-256 failed");
    }
    info.sha256Fingerprint = hexUpper(std::span(digest.data(), digestLen));

    info.version = static_cast<int>(X509_get_version(x509)) + 1;
    info.signatureAlgorithm = signatureAlgorithmOf(x509);
    info.selfSigned = X509_self_signed(x509, 1) == 1;
    info.publicKey = publicKeyOf(x509);
    describeExtensions(info, x509);
    info.ocspUrls = ocspUrlsOf(x509);
    info.caIssuersUrls = caIssuersUrlsOf(x509);
    info.crlUrls = crlUrlsOf(x509);
    ERR_clear_error();
    return info;
}

}  // namespace

CertificateInfo parseCertificate(std::span<const std::uint8_t> der) {
    const ossl::X509Ptr x509 = decodeDer(der);
    return describe(x509.get(), der);
}

std::vector<std::uint8_t> certificateDerFromPemOrDer(std::span<const std::uint8_t> bytes) {
    static constexpr std::string_view kPemMarker = "-----BEGIN";
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (text.find(kPemMarker) == std::string_view::npos) {
        decodeDer(bytes);  // throws BadRequest when it is not one certificate
        return {bytes.begin(), bytes.end()};
    }
    ossl::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) {
        throw Error(ErrorCode::Internal, "out of memory");
    }
    ossl::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!x509) {
        throw Error(ErrorCode::BadRequest, "not a PEM certificate");
    }
    return encodeDer(x509.get());
}

Expiry expiryOf(const CertificateInfo& info, std::chrono::system_clock::time_point now, int warnDays) {
    using namespace std::chrono;
    const auto nowSeconds = floor<seconds>(now);
    const seconds left = info.notAfterTime - nowSeconds;
    Expiry out;
    out.daysLeft = floor<days>(left).count();
    out.expired = nowSeconds > info.notAfterTime;
    out.notYetValid = nowSeconds < info.notBeforeTime;
    out.expiringSoon = !out.expired && left <= days{warnDays};
    return out;
}

}  // namespace inkan::cert
