// The registry extension decoders and the DER reader beneath them, on
// hand-made DER: every DirectoryString type, unknown tags, and hostile input.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/der_reader.hpp"
#include "daemon/cert/registry_extensions.hpp"
#include "daemon/cert/utf8.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
namespace registry = inkan::cert::registry;
namespace der = inkan::cert::der;

Bytes tlv(std::uint8_t tag, const Bytes& value) {
    Bytes out{tag};
    const std::size_t n = value.size();
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n <= 0xFF) {
        out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
    } else {
        out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xFF)});
    }
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes utf8(std::string_view s) { return tlv(0x0C, bytes(s)); }
Bytes printable(std::string_view s) { return tlv(0x13, bytes(s)); }
Bytes explicitTag(std::uint8_t number, const Bytes& inner) { return tlv(0xA0 | number, inner); }
Bytes sequence(std::initializer_list<Bytes> items) { return tlv(0x30, concat(items)); }

// BMPString of "代表取締役" (UTF-16BE: 4EE3 8868 53D6 7DE0 5F79).
const Bytes kBmpTitle = tlv(0x1E, {0x4E, 0xE3, 0x88, 0x68, 0x53, 0xD6, 0x7D, 0xE0, 0x5F, 0x79});

Bytes fullCorporationInfo() {
    return sequence({
        explicitTag(0, utf8("サンプル株式会社")),
        explicitTag(1, printable("012345678901")),
        explicitTag(2, utf8("東京都千代田区霞が関一丁目１番１号")),
        explicitTag(3, utf8("佐藤 一郎")),
        explicitTag(4, kBmpTitle),
        explicitTag(6, utf8("東京法務局")),
    });
}

}  // namespace

TEST_CASE("registeredCorporationInfo decodes every registered field") {
    const auto info = registry::decodeRegisteredCorporationInfo(fullCorporationInfo());
    REQUIRE(info.has_value());
    CHECK(info->corporateName == "サンプル株式会社");
    CHECK(info->registeredNumber == "012345678901");
    CHECK(info->headOffice == "東京都千代田区霞が関一丁目１番１号");
    CHECK(info->representativeName == "佐藤 一郎");
    CHECK(info->representativeTitle == "代表取締役");  // from BMPString
    CHECK(info->registryOffice == "東京法務局");
}

TEST_CASE("registeredCorporationInfo skips tags it does not know and keeps the rest") {
    const Bytes value = sequence({
        explicitTag(0, utf8("サンプル株式会社")),
        explicitTag(5, utf8("将来の項目")),
        tlv(0x87, bytes("primitive unknown")),  // [7] IMPLICIT: also unknown, also skipped
        explicitTag(6, utf8("東京法務局")),
    });
    const auto info = registry::decodeRegisteredCorporationInfo(value);
    REQUIRE(info.has_value());
    CHECK(info->corporateName == "サンプル株式会社");
    CHECK(info->registryOffice == "東京法務局");
    CHECK_FALSE(info->registeredNumber.has_value());
    CHECK_FALSE(info->representativeName.has_value());
}

TEST_CASE("registeredCorporationInfo may be empty") {
    const auto info = registry::decodeRegisteredCorporationInfo(sequence({}));
    REQUIRE(info.has_value());
    CHECK(*info == inkan::cert::RegisteredCorporationInfo{});
}

TEST_CASE("DirectoryString: every string type becomes UTF-8") {
    const auto decode = [](const Bytes& str) {
        return registry::decodeRegisteredCorporationInfo(sequence({explicitTag(0, str)}));
    };
    SUBCASE("UTF8String") { CHECK(decode(utf8("株式会社"))->corporateName == "株式会社"); }
    SUBCASE("PrintableString") { CHECK(decode(printable("ABC Co., Ltd."))->corporateName == "ABC Co., Ltd."); }
    SUBCASE("BMPString") { CHECK(decode(kBmpTitle)->corporateName == "代表取締役"); }
    SUBCASE("BMPString with a surrogate pair") {
        // U+20BB7 𠮷 (a name character outside the BMP) as D842 DFB7.
        CHECK(decode(tlv(0x1E, {0xD8, 0x42, 0xDF, 0xB7}))->corporateName == "𠮷");
    }
    SUBCASE("TeletexString read as Latin-1") {
        CHECK(decode(tlv(0x14, {'C', 'a', 'f', 0xE9}))->corporateName == "Café");
    }
    SUBCASE("UniversalString") {
        CHECK(decode(tlv(0x1C, {0x00, 0x00, 0x67, 0x71, 0x00, 0x00, 0x4E, 0xAC}))->corporateName == "東京");
    }
    SUBCASE("IA5String") { CHECK(decode(tlv(0x16, bytes("ascii")))->corporateName == "ascii"); }
}

TEST_CASE("registeredCorporationInfo: malformed input is undecodable, never a crash") {
    const auto rejects = [](const Bytes& value) {
        return !registry::decodeRegisteredCorporationInfo(value).has_value();
    };
    const Bytes good = fullCorporationInfo();

    CHECK(rejects({}));
    CHECK(rejects({0x30}));                       // no length
    CHECK(rejects({0x30, 0x80, 0x00, 0x00}));     // indefinite length (BER, not DER)
    CHECK(rejects({0x30, 0x85, 1, 0, 0, 0, 0}));  // five length octets
    CHECK(rejects({0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF}));  // length far past the end
    CHECK(rejects(Bytes(good.begin(), good.end() - 1)));  // truncated
    CHECK(rejects(concat({good, {0x00}})));               // trailing byte
    CHECK(rejects(tlv(0x31, concat({explicitTag(0, utf8("x"))}))));  // SET, not SEQUENCE
    CHECK(rejects(sequence({utf8("untagged")})));                    // universal element inside
    CHECK(rejects(sequence({tlv(0x80, bytes("x"))})));               // [0] primitive: not EXPLICIT
    CHECK(rejects(sequence({explicitTag(0, tlv(0x02, {0x01}))})));   // INTEGER is no DirectoryString
    CHECK(rejects(sequence({explicitTag(0, concat({utf8("a"), utf8("b")}))})));  // two strings in one tag
    CHECK(rejects(sequence({explicitTag(0, utf8("a")), explicitTag(0, utf8("b"))})));  // duplicate 商号
    CHECK(rejects(sequence({explicitTag(0, tlv(0x1E, {0x4E}))})));          // odd-length BMPString
    CHECK(rejects(sequence({explicitTag(0, tlv(0x1E, {0xD8, 0x42}))})));    // lone high surrogate
    CHECK(rejects(sequence({explicitTag(0, tlv(0x1E, {0xDF, 0xB7}))})));    // lone low surrogate
    CHECK(rejects(sequence({explicitTag(0, tlv(0x0C, {0xC0, 0xAF}))})));    // overlong UTF-8 '/'
    CHECK(rejects(sequence({explicitTag(0, tlv(0x0C, {0xE6, 0x9D}))})));    // truncated UTF-8
    CHECK(rejects(sequence({explicitTag(0, tlv(0x0C, {0xED, 0xA0, 0x80}))})));  // UTF-8 surrogate
    CHECK(rejects(sequence({explicitTag(0, tlv(0x0C, {'a', 0x00, 'b'}))})));    // embedded NUL
    CHECK(rejects(sequence({explicitTag(0, tlv(0x0C, {'a', '\n', 'b'}))})));    // a forged line break
    CHECK(rejects(sequence({explicitTag(0, tlv(0x14, {'a', 0x9B, 'b'}))})));    // C1 control (CSI) in Teletex
    CHECK(rejects(sequence({explicitTag(0, tlv(0x13, {0xE6}))})));          // non-ASCII PrintableString
    CHECK(rejects(sequence({explicitTag(0, tlv(0x1C, {0x00, 0x11, 0x00, 0x00}))})));  // beyond U+10FFFF
    CHECK(rejects(sequence({tlv(0xBF, {0x1F, 0x00})})));  // multi-byte tag number
}

TEST_CASE("registrarJP is one DirectoryString") {
    CHECK(registry::decodeRegistrar(utf8("東京法務局登記官")) == "東京法務局登記官");
    CHECK(registry::decodeRegistrar(kBmpTitle) == "代表取締役");
    CHECK_FALSE(registry::decodeRegistrar(concat({utf8("a"), utf8("b")})).has_value());
    CHECK_FALSE(registry::decodeRegistrar(tlv(0x02, {0x01})).has_value());
    CHECK_FALSE(registry::decodeRegistrar({}).has_value());
}

TEST_CASE("certificatePoliciesJP uses the certificatePolicies syntax, notices included") {
    // 1.2.392.100300.1.3.4 = 06 09 2A 83 08 86 8F 4C 01 03 04 (X.690 §8.19: base-128 arcs)
    const Bytes policyOid = tlv(0x06, {0x2A, 0x83, 0x08, 0x86, 0x8F, 0x4C, 0x01, 0x03, 0x04});
    // id-qt-unotice 1.3.6.1.5.5.7.2.2
    const Bytes unoticeOid = tlv(0x06, {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x02});
    const Bytes value = sequence({sequence({
        policyOid,
        sequence({sequence({unoticeOid, sequence({utf8("この証明書は試験用です。")})})}),
    })});
    const auto policies = registry::decodePolicies(value);
    REQUIRE(policies.has_value());
    REQUIRE(policies->size() == 1);
    CHECK((*policies)[0].oid == registry::kCommercialRegistrationPolicyOid);
    REQUIRE((*policies)[0].notices.size() == 1);
    CHECK((*policies)[0].notices[0] == "この証明書は試験用です。");

    CHECK_FALSE(registry::decodePolicies(concat({value, {0x00}})).has_value());
    CHECK_FALSE(registry::decodePolicies(utf8("not policies")).has_value());
    CHECK_FALSE(registry::decodePolicies({}).has_value());
}

TEST_CASE("the three registry OIDs and nothing else are registry extensions") {
    CHECK(registry::isRegistryExtension("1.2.392.100300.1.1.1"));
    CHECK(registry::isRegistryExtension("1.2.392.100300.1.1.2"));
    CHECK(registry::isRegistryExtension("1.2.392.100300.1.1.3"));
    CHECK_FALSE(registry::isRegistryExtension("1.2.392.100300.1.1.4"));
    CHECK_FALSE(registry::isRegistryExtension("1.2.392.100300.1.1"));
    CHECK_FALSE(registry::isRegistryExtension(""));
    CHECK(registry::extensionName("1.2.392.100300.1.1.3") == "registeredCorporationInfo");
}

TEST_CASE("DER reader: long-form lengths are read, lengths past the container are refused") {
    const Bytes longValue(300, 'a');
    const Bytes encoded = tlv(0x04, longValue);
    der::Reader reader(encoded);
    const der::Tlv element = reader.next();
    CHECK(element.tag == 0x04);
    CHECK(element.value.size() == 300);
    CHECK(reader.atEnd());

    const Bytes pastEnd{0x04, 0x82, 0x01, 0x2C, 'a'};
    der::Reader past(pastEnd);
    CHECK_THROWS_AS(past.next(), der::DerError);
    const Bytes truncatedLength{0x04, 0x82, 0x01};
    der::Reader shortLength(truncatedLength);
    CHECK_THROWS_AS(shortLength.next(), der::DerError);
}

TEST_CASE("utf8::sanitize keeps text and replaces what is not text") {
    namespace utf8 = inkan::cert::utf8;
    CHECK(utf8::sanitize("東京法務局") == "東京法務局");
    CHECK(utf8::sanitize(std::string_view("a\0b", 3)) == "a\uFFFDb");
    CHECK(utf8::sanitize("line\nbreak") == "line\uFFFDbreak");
    CHECK(utf8::sanitize("\xC2\x9B") == "\uFFFD");          // U+009B, a C1 control
    CHECK(utf8::sanitize("\xFF" "ok") == "\uFFFDok");        // not UTF-8 at all
    CHECK(utf8::sanitize("\xE6\x9D") == "\uFFFD\uFFFD");     // truncated sequence
    CHECK(utf8::sanitize("\xED\xA0\x80") == "\uFFFD\uFFFD\uFFFD");  // an encoded surrogate
    CHECK(utf8::sanitize("\xF0\x9F\x94\x8F") == "\xF0\x9F\x94\x8F");  // U+1F50F, beyond the BMP
}
