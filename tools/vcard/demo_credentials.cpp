// inkan-vcard — the demo key and certificates a new virtual card is born with.
#include "tools/vcard/demo_credentials.hpp"

#include <ctime>
#include <string>
#include <string_view>

#include <openssl/rsa.h>

#include "tools/vcard/registry_extensions.hpp"

namespace inkan::vcard {

namespace {

using Clock = std::chrono::system_clock;

// The demo CA's name: shaped like the registry's root, clearly not the Ministry.
constexpr std::string_view kCaCountry = "JP";
constexpr std::string_view kCaOrganization = "inkan Demo";
constexpr std::string_view kCaUnit = "Demo Legal Affairs Bureau";
constexpr std::string_view kCaCommonName = "inkan Demo Registrar CA";

// The demo company, as a 商業登記電子証明書 would name its representative.
constexpr std::string_view kLeafCountry = "JP";
constexpr std::string_view kLeafOrganization = "株式会社いんかん商事";
constexpr std::string_view kLeafCommonName = "代表取締役 印鑑 太郎";

const registry::RegisteredCorporation& demoCorporation()
{
    static const registry::RegisteredCorporation corporation{
        .tradeName = "株式会社いんかん商事",
        .registeredNumber = "010001123456",  // 会社法人等番号: office 0100, type 01, number 123456
        .headOffice = "東京都千代田区霞が関一丁目1番1号",
        .representative = "印鑑 太郎",
        .title = "代表取締役",
        .registryOffice = "東京法務局",
    };
    return corporation;
}
constexpr std::string_view kDemoRegistrar = "東京法務局登記官";

// The JPKI demo: two CAs named after J-LIS's two ("JPKI for user authentication",
// "JPKI for digital signature"), each marked TEST and never naming J-LIS itself.
constexpr std::string_view kJpkiCaOrganization = "inkan Demo JPKI (TEST)";
constexpr std::string_view kJpkiAuthCaUnit = "TEST JPKI for user authentication";
constexpr std::string_view kJpkiSignCaUnit = "TEST JPKI for digital signature";
constexpr std::string_view kJpkiCaIssuerNote = "TEST CA - not issued by any local authority";
// The signing certificate names its holder and address like a JPKI signing
// certificate (name, address); every value is an obvious test value.
constexpr std::string_view kJpkiHolderName = "テスト 花子 (TEST)";
constexpr std::string_view kJpkiHolderPrefecture = "東京都 (TEST)";
constexpr std::string_view kJpkiHolderAddress = "千代田区霞が関一丁目1番1号 (TEST)";
// The authentication certificate carries no name (a real one shows only a serial-like CN).
constexpr std::string_view kJpkiAuthCommonName = "TEST JPKI user authentication - no real person";

// Certificate serial numbers: 127 random bits with the top bit set, so the
// INTEGER is positive and always 16 octets (RFC 5280 §4.1.2.2: at most 20).
constexpr int kSerialBits = 127;

ossl::PkeyPtr generateRsaKey()
{
    return ossl::own<ossl::PkeyPtr>(EVP_RSA_gen(kSigningKeyBits), "RSA key generation failed");
}

ossl::X509NamePtr makeName(std::string_view country, std::initializer_list<std::pair<const char*, std::string_view>> rest)
{
    auto name = ossl::own<ossl::X509NamePtr>(X509_NAME_new(), "X509_NAME_new");
    // MBSTRING_UTF8: OpenSSL 3's default string mask ("utf8only") stores these
    // as UTF8String, except countryName, which its table forces to PrintableString.
    const auto add = [&](const char* field, std::string_view value) {
        ossl::check(X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                               reinterpret_cast<const unsigned char*>(value.data()),
                                               static_cast<int>(value.size()), -1, 0),
                    "X509_NAME_add_entry_by_txt");
    };
    add("C", country);
    for (const auto& [field, value] : rest) add(field, value);
    return name;
}

void setRandomSerial(X509* cert)
{
    auto bn = ossl::own<ossl::BignumPtr>(BN_new(), "BN_new");
    ossl::check(BN_rand(bn.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand");
    auto serial = ossl::own<ossl::IntegerPtr>(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER");
    ossl::check(X509_set_serialNumber(cert, serial.get()), "X509_set_serialNumber");
}

void setValidity(X509* cert, Clock::time_point notBefore, Clock::time_point notAfter)
{
    auto from = ossl::own<ossl::TimePtr>(ASN1_TIME_set(nullptr, Clock::to_time_t(notBefore)), "ASN1_TIME_set");
    auto to = ossl::own<ossl::TimePtr>(ASN1_TIME_set(nullptr, Clock::to_time_t(notAfter)), "ASN1_TIME_set");
    ossl::check(X509_set1_notBefore(cert, from.get()), "X509_set1_notBefore");
    ossl::check(X509_set1_notAfter(cert, to.get()), "X509_set1_notAfter");
}

/// A standard extension from its OpenSSL config text (e.g. "critical,CA:TRUE").
void addStandardExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value)
{
    auto ext = ossl::own<ossl::ExtensionPtr>(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value), "X509V3_EXT_nconf_nid");
    ossl::check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

/// A private extension whose extnValue we encoded ourselves (critical, like the registry's).
void addCriticalDerExtension(X509* cert, std::string_view oid, const Bytes& value)
{
    auto object = ossl::own<ossl::ObjectPtr>(OBJ_txt2obj(std::string(oid).c_str(), 1), "OBJ_txt2obj");
    auto octets = ossl::own<ossl::OctetStringPtr>(ASN1_OCTET_STRING_new(), "ASN1_OCTET_STRING_new");
    ossl::check(ASN1_OCTET_STRING_set(octets.get(), value.data(), static_cast<int>(value.size())),
                "ASN1_OCTET_STRING_set");
    constexpr int kCritical = 1;
    auto ext = ossl::own<ossl::ExtensionPtr>(
        X509_EXTENSION_create_by_OBJ(nullptr, object.get(), kCritical, octets.get()), "X509_EXTENSION_create_by_OBJ");
    ossl::check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

ossl::X509Ptr newCertificate(const X509_NAME* subject, const X509_NAME* issuer, EVP_PKEY* subjectKey,
                             Clock::time_point notBefore, Clock::time_point notAfter)
{
    auto cert = ossl::own<ossl::X509Ptr>(X509_new(), "X509_new");
    constexpr long kVersion3 = 2;  // X.509 v3 is encoded as 2 (RFC 5280 §4.1.2.1)
    ossl::check(X509_set_version(cert.get(), kVersion3), "X509_set_version");
    setRandomSerial(cert.get());
    ossl::check(X509_set_subject_name(cert.get(), subject), "X509_set_subject_name");
    ossl::check(X509_set_issuer_name(cert.get(), issuer), "X509_set_issuer_name");
    setValidity(cert.get(), notBefore, notAfter);
    ossl::check(X509_set_pubkey(cert.get(), subjectKey), "X509_set_pubkey");
    return cert;
}

/// A self-signed demo CA that may issue end-entity certificates only.
void issueDemoCa(ossl::PkeyPtr& key, ossl::X509Ptr& cert, const X509_NAME* name, Clock::time_point notBefore)
{
    key = generateRsaKey();
    cert = newCertificate(name, name, key.get(), notBefore, addMonths(notBefore, kCaValidityMonths));
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    addStandardExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    addStandardExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    addStandardExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    ossl::check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0 ? 1 : 0, "X509_sign (CA)");
}

/// An end-entity certificate for a new key, issued by `caKey`/`caCert`.
void issueDemoLeaf(ossl::PkeyPtr& key, ossl::X509Ptr& cert, const X509_NAME* subject, EVP_PKEY* caKey, X509* caCert,
                   Clock::time_point notBefore, int months, std::initializer_list<std::pair<int, const char*>> extensions)
{
    key = generateRsaKey();
    cert = newCertificate(subject, X509_get_subject_name(caCert), key.get(), notBefore, addMonths(notBefore, months));
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, caCert, cert.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) addStandardExtension(cert.get(), &ctx, nid, value);
    addStandardExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    addStandardExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    ossl::check(X509_sign(cert.get(), caKey, EVP_sha256()) > 0 ? 1 : 0, "X509_sign (leaf)");
}

}  // namespace

Clock::time_point addMonths(Clock::time_point t, int months)
{
    const std::time_t seconds = Clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    const int totalMonths = tm.tm_mon + months;
    tm.tm_year += totalMonths / 12;
    tm.tm_mon = totalMonths % 12;
    // Clamp the day: find the target month's length by asking for day 0 of the next month.
    std::tm probe{};
    probe.tm_year = tm.tm_year;
    probe.tm_mon = tm.tm_mon + 1;
    probe.tm_mday = 0;
    const std::time_t probeTime = timegm(&probe);
    std::tm lastDay{};
    gmtime_r(&probeTime, &lastDay);
    if (tm.tm_mday > lastDay.tm_mday) tm.tm_mday = lastDay.tm_mday;
    return Clock::from_time_t(timegm(&tm));
}

DemoCredentials issueDemoCredentials(Clock::time_point now)
{
    DemoCredentials out;
    const auto notBefore = std::chrono::floor<std::chrono::seconds>(now);

    // Demo CA: self-signed, may issue end-entity certificates only.
    out.caKey = generateRsaKey();
    const auto caName = makeName(kCaCountry, {{"O", kCaOrganization}, {"OU", kCaUnit}, {"CN", kCaCommonName}});
    out.caCertificate = newCertificate(caName.get(), caName.get(), out.caKey.get(), notBefore,
                                       addMonths(notBefore, kCaValidityMonths));
    {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, out.caCertificate.get(), out.caCertificate.get(), nullptr, nullptr, 0);
        addStandardExtension(out.caCertificate.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        addStandardExtension(out.caCertificate.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        addStandardExtension(out.caCertificate.get(), &ctx, NID_subject_key_identifier, "hash");
    }
    ossl::check(X509_sign(out.caCertificate.get(), out.caKey.get(), EVP_sha256()) > 0 ? 1 : 0, "X509_sign (CA)");

    // Leaf: the card's signing certificate.
    out.signingKey = generateRsaKey();
    const auto leafName = makeName(kLeafCountry, {{"O", kLeafOrganization}, {"CN", kLeafCommonName}});
    out.signingCertificate = newCertificate(leafName.get(), caName.get(), out.signingKey.get(), notBefore,
                                            addMonths(notBefore, kLeafValidityMonths));
    {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, out.caCertificate.get(), out.signingCertificate.get(), nullptr, nullptr, 0);
        // A signing certificate: signatures and non-repudiation only (reference card: "key 01").
        addStandardExtension(out.signingCertificate.get(), &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation");
        addStandardExtension(out.signingCertificate.get(), &ctx, NID_subject_key_identifier, "hash");
        addStandardExtension(out.signingCertificate.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    }
    addCriticalDerExtension(out.signingCertificate.get(), registry::kOidCertificatePoliciesJp,
                            registry::certificatePoliciesJp(registry::kOidRegistryPolicy));
    addCriticalDerExtension(out.signingCertificate.get(), registry::kOidRegistrarJp,
                            registry::registrarJp(kDemoRegistrar));
    addCriticalDerExtension(out.signingCertificate.get(), registry::kOidRegisteredCorporationInfo,
                            registry::registeredCorporationInfo(demoCorporation()));
    ossl::check(X509_sign(out.signingCertificate.get(), out.caKey.get(), EVP_sha256()) > 0 ? 1 : 0, "X509_sign (leaf)");
    return out;
}

JpkiDemoCredentials issueJpkiDemoCredentials(Clock::time_point now)
{
    JpkiDemoCredentials out;
    const auto notBefore = std::chrono::floor<std::chrono::seconds>(now);

    const auto authCaName = makeName(
        kCaCountry, {{"O", kJpkiCaOrganization}, {"OU", kJpkiAuthCaUnit}, {"OU", kJpkiCaIssuerNote}});
    issueDemoCa(out.authCaKey, out.authCaCertificate, authCaName.get(), notBefore);
    const auto signCaName = makeName(
        kCaCountry, {{"O", kJpkiCaOrganization}, {"OU", kJpkiSignCaUnit}, {"OU", kJpkiCaIssuerNote}});
    issueDemoCa(out.signCaKey, out.signCaCertificate, signCaName.get(), notBefore);

    // User authentication: TLS client authentication, no name.
    const auto authName = makeName(kLeafCountry, {{"CN", kJpkiAuthCommonName}});
    issueDemoLeaf(out.authKey, out.authCertificate, authName.get(), out.authCaKey.get(), out.authCaCertificate.get(),
                  notBefore, kJpkiValidityMonths,
                  {{NID_key_usage, "critical,digitalSignature"}, {NID_ext_key_usage, "clientAuth"}});

    // Digital signature: the holder's name and address, non-repudiation.
    const auto signName = makeName(
        kLeafCountry, {{"ST", kJpkiHolderPrefecture}, {"L", kJpkiHolderAddress}, {"CN", kJpkiHolderName}});
    issueDemoLeaf(out.signKey, out.signCertificate, signName.get(), out.signCaKey.get(), out.signCaCertificate.get(),
                  notBefore, kJpkiValidityMonths, {{NID_key_usage, "critical,digitalSignature,nonRepudiation"}});
    return out;
}

}  // namespace inkan::vcard
