// Unit tests of the virtual PIN-pad reader's pure parts: the PC/SC part 10
// structures it accepts or refuses, where a typed PIN lands in the APDU
// template, its DEVICENAME, and the keypad file.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/temp_dir.hpp"
#include "tools/vpinpad/device_name.hpp"
#include "tools/vpinpad/keypad.hpp"
#include "tools/vpinpad/part10.hpp"

using namespace inkan::vpinpad;
namespace p10 = inkan::vpinpad::part10;
using Bytes = std::vector<std::uint8_t>;

namespace {

// ---- Builders for the structures as inkand sends them (§2.5.2 / §2.5.3) ----------

Bytes apdu(std::initializer_list<std::uint8_t> header, std::size_t dataLength, std::uint8_t fill = 0xFF)
{
    Bytes out(header);
    out.push_back(static_cast<std::uint8_t>(dataLength));
    out.insert(out.end(), dataLength, fill);
    return out;
}

void appendLe32(Bytes& out, std::uint32_t v)
{
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

struct VerifyFields {
    std::uint8_t timerOut = 30;
    std::uint8_t formatString = 0x82;  // bytes, position 0, left, ASCII (the reference card)
    std::uint8_t blockString = 0x00;
    std::uint8_t lengthFormat = 0x00;
    std::uint8_t minLength = 4;
    std::uint8_t maxLength = 16;
    Bytes apdu = ::apdu({0x00, 0x20, 0x00, 0x81}, 16);
};

Bytes verifyStructure(const VerifyFields& f, std::int64_t dataLengthAdjust = 0)
{
    Bytes s{f.timerOut, f.timerOut, f.formatString, f.blockString, f.lengthFormat,
            f.maxLength, f.minLength,          // wPINMaxExtraDigit, little-endian 0xXXYY
            0x02, 0x01, 0x11, 0x04, 0x00,      // OK key, 1 message, Japanese, message 0
            0x00, 0x00, 0x00};                 // bTeoPrologue
    appendLe32(s, static_cast<std::uint32_t>(static_cast<std::int64_t>(f.apdu.size()) + dataLengthAdjust));
    s.insert(s.end(), f.apdu.begin(), f.apdu.end());
    return s;
}

struct ModifyFields {
    std::uint8_t formatString = 0x82;
    std::uint8_t blockString = 0x00;
    std::uint8_t lengthFormat = 0x00;
    std::uint8_t offsetOld = 0;
    std::uint8_t offsetNew = 16;
    std::uint8_t minLength = 4;
    std::uint8_t maxLength = 16;
    std::uint8_t confirm = 0x03;  // current PIN, then the new one twice
    Bytes apdu = ::apdu({0x00, 0x24, 0x00, 0x81}, 32);
};

Bytes modifyStructure(const ModifyFields& f)
{
    Bytes s{30, 30, f.formatString, f.blockString, f.lengthFormat, f.offsetOld, f.offsetNew,
            f.maxLength, f.minLength, f.confirm,
            0x02, 0x03, 0x11, 0x04, 0x00, 0x01, 0x02,  // OK key, 3 messages, Japanese, indexes
            0x00, 0x00, 0x00};
    appendLe32(s, static_cast<std::uint32_t>(f.apdu.size()));
    s.insert(s.end(), f.apdu.begin(), f.apdu.end());
    return s;
}

Bytes dataField(const Bytes& apdu)
{
    return Bytes(apdu.begin() + 5, apdu.begin() + 5 + apdu[4]);
}

Bytes ascii(std::string_view text)
{
    return Bytes(text.begin(), text.end());
}

Bytes padded(Bytes prefix, std::size_t length, std::uint8_t fill = 0xFF)
{
    prefix.resize(length, fill);
    return prefix;
}

std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeFile(const std::filesystem::path& path, std::string_view text)
{
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

// ---- Feature list ------------------------------------------------------------------

TEST_CASE("the feature list announces verify, modify and PIN properties with libccid-style codes")
{
    CHECK(p10::featureList() == Bytes{0x06, 0x04, 0x42, 0x33, 0x00, 0x06,  //
                                      0x07, 0x04, 0x42, 0x33, 0x00, 0x07,  //
                                      0x0A, 0x04, 0x42, 0x33, 0x00, 0x0A});
    CHECK(p10::kGetFeatureRequest == 0x42000D48);
}

TEST_CASE("PIN properties: no display, OK key ends the entry")
{
    CHECK(p10::pinProperties() == Bytes{0x00, 0x00, 0x02, 0x00});
}

// ---- PIN_VERIFY_STRUCTURE ----------------------------------------------------------

TEST_CASE("the reference card's verify structure parses field by field")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    CHECK(request.timeoutSeconds == 30);
    CHECK(request.format.formatString == 0x82);
    CHECK(request.format.minLength == 4);
    CHECK(request.format.maxLength == 16);
    CHECK(request.apduTemplate == apdu({0x00, 0x20, 0x00, 0x81}, 16));
}

TEST_CASE("bTimerOut 0 means the reader's default of 30 seconds")
{
    VerifyFields f;
    f.timerOut = 0;
    CHECK(p10::parseVerifyStructure(verifyStructure(f)).timeoutSeconds == p10::kDefaultTimeoutSeconds);
}

TEST_CASE("a verify structure whose ulDataLength disagrees with its size is refused")
{
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure({}, +1)), p10::MalformedStructure);
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure({}, -1)), p10::MalformedStructure);
    Bytes trailing = verifyStructure({});
    trailing.push_back(0x00);
    CHECK_THROWS_AS(p10::parseVerifyStructure(trailing), p10::MalformedStructure);
}

TEST_CASE("a verify structure cut inside its header is refused")
{
    const Bytes whole = verifyStructure({});
    for (std::size_t cut = 0; cut < p10::kVerifyHeaderLength; ++cut) {
        CHECK_THROWS_AS(p10::parseVerifyStructure(p10::ByteView(whole.data(), cut)), p10::MalformedStructure);
    }
}

TEST_CASE("an APDU template whose Lc disagrees with its data is refused")
{
    VerifyFields f;
    f.apdu = apdu({0x00, 0x20, 0x00, 0x81}, 16);
    f.apdu[4] = 0x11;  // claims 17 bytes, carries 16
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure(f)), p10::MalformedStructure);
    f.apdu = {0x00, 0x20, 0x00, 0x81};  // no Lc at all
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure(f)), p10::MalformedStructure);
    f.apdu = {0x00, 0x20, 0x00, 0x81, 0x00};  // no data field for the PIN
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure(f)), p10::MalformedStructure);
}

TEST_CASE("an APDU template may end with Le")
{
    VerifyFields f;
    f.apdu.push_back(0x00);
    CHECK(p10::parseVerifyStructure(verifyStructure(f)).apduTemplate.size() == 5 + 16 + 1);
}

TEST_CASE("formats no reader could honour are refused before anyone types")
{
    VerifyFields f;
    SUBCASE("RFU encoding 11") { f.formatString = 0x83; }
    SUBCASE("inverted length range") { f.minLength = 8; f.maxLength = 4; }
    SUBCASE("maximum length 0") { f.minLength = 0; f.maxLength = 0; }
    SUBCASE("a PIN of the maximum length overflows the data field") { f.maxLength = 17; }
    SUBCASE("the position pushes the PIN out of the data field") { f.formatString = 0x82 | (1 << 3); }
    SUBCASE("right justified without a block size") { f.formatString = 0x86; }
    SUBCASE("bmPINLengthFormat RFU bits") { f.lengthFormat = 0x20; }
    SUBCASE("a length field too small for the maximum") { f.blockString = 0x40; f.lengthFormat = 0x10; }
    SUBCASE("a length field outside the data field")
    {
        f.blockString = 0x80;
        f.lengthFormat = 0x10 | 0x0F;  // byte 15 of an 8-byte field
        f.maxLength = 8;
        f.apdu = apdu({0x00, 0x20, 0x00, 0x81}, 8);
    }
    CHECK_THROWS_AS(p10::parseVerifyStructure(verifyStructure(f)), p10::MalformedStructure);
}

// ---- Where the PIN goes ------------------------------------------------------------

TEST_CASE("the reference card's PIN block: ASCII digits from byte 0, the FF padding kept")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "1234"));
    CHECK(Bytes(built.begin(), built.begin() + 5) == Bytes{0x00, 0x20, 0x00, 0x81, 0x10});
    CHECK(dataField(built) == padded(ascii("1234"), 16));
}

TEST_CASE("a PIN of exactly the maximum length fills the block")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "0123456789012345"));
    CHECK(dataField(built) == ascii("0123456789012345"));
}

TEST_CASE("a PIN shorter than the minimum or longer than the maximum is refused, template untouched")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    Bytes built = request.apduTemplate;
    CHECK_FALSE(p10::insertPin(built, request.format, 0, "123"));
    CHECK_FALSE(p10::insertPin(built, request.format, 0, "01234567890123456"));
    CHECK_FALSE(p10::insertPin(built, request.format, 0, ""));
    CHECK(built == request.apduTemplate);
}

TEST_CASE("ASCII encoding passes any character on (the card judges it)")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "12a4"));
    CHECK(dataField(built) == padded(ascii("12a4"), 16));
}

TEST_CASE("BCD: two digits per byte at a byte position, an odd last nibble keeps the template's")
{
    VerifyFields f;
    f.formatString = 0x80 | (1 << 3) | 0x01;  // bytes, position 1, left, BCD
    f.maxLength = 12;
    f.apdu = apdu({0x00, 0x20, 0x00, 0x81}, 8);
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "12345"));
    CHECK(dataField(built) == Bytes{0xFF, 0x12, 0x34, 0x5F, 0xFF, 0xFF, 0xFF, 0xFF});
}

TEST_CASE("BCD and binary refuse a non-digit")
{
    VerifyFields f;
    f.maxLength = 8;
    for (const std::uint8_t encoding : {p10::kEncodingBcd, p10::kEncodingBinary}) {
        f.formatString = static_cast<std::uint8_t>(0x80 | encoding);
        const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
        Bytes built = request.apduTemplate;
        CHECK_FALSE(p10::insertPin(built, request.format, 0, "12a4"));
        CHECK(built == request.apduTemplate);
    }
}

TEST_CASE("binary: one byte per digit, its value")
{
    VerifyFields f;
    f.formatString = 0x80;  // bytes, position 0, left, binary
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "1234"));
    CHECK(dataField(built) == padded(Bytes{0x01, 0x02, 0x03, 0x04}, 16));
}

TEST_CASE("right justification ends the PIN at the end of the PIN block")
{
    VerifyFields f;
    f.formatString = 0x80 | 0x04 | 0x02;  // bytes, position 0, right, ASCII
    f.blockString = 0x08;                 // 8-byte block
    f.maxLength = 8;
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "1234"));
    CHECK(dataField(built) == padded(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x31, 0x32, 0x33, 0x34}, 16));
}

TEST_CASE("ISO 9564 format 2: a 4-bit length after the control nibble, BCD from byte 1")
{
    VerifyFields f;
    f.formatString = 0x80 | (1 << 3) | 0x01;  // bytes, position 1, left, BCD
    f.blockString = 0x47;                     // 4-bit length field, 7-byte block
    f.lengthFormat = 0x04;                    // length at bit 4 (bit units)
    f.maxLength = 12;
    f.apdu = {0x00, 0x20, 0x00, 0x81, 0x08, 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "12345"));
    CHECK(dataField(built) == Bytes{0x25, 0x12, 0x34, 0x5F, 0xFF, 0xFF, 0xFF, 0xFF});
}

TEST_CASE("a whole-byte length field in byte units")
{
    VerifyFields f;
    f.formatString = 0x80 | (1 << 3) | 0x02;  // ASCII from byte 1
    f.blockString = 0x80;                     // 8-bit length field
    f.lengthFormat = 0x10;                    // at byte 0
    f.maxLength = 15;
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "123456"));
    CHECK(dataField(built) == padded(Bytes{0x06, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36}, 16));
}

TEST_CASE("bit units: a PIN position counted in bits")
{
    VerifyFields f;
    f.formatString = (4 << 3) | 0x01;  // bit units, position 4, left, BCD
    f.minLength = 1;
    f.maxLength = 8;
    f.apdu = apdu({0x00, 0x20, 0x00, 0x81}, 8, 0x00);
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, 0, "987"));
    CHECK(dataField(built) == Bytes{0x09, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
}

TEST_CASE("insertPin refuses a buffer that is not the parsed template")
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(verifyStructure({}));
    Bytes tooShort = {0x00, 0x20, 0x00, 0x81, 0x10, 0xFF};
    CHECK_THROWS_AS(p10::insertPin(tooShort, request.format, 0, "1234"), std::invalid_argument);
    Bytes smallerField = apdu({0x00, 0x20, 0x00, 0x81}, 2);
    CHECK_THROWS_AS(p10::insertPin(smallerField, request.format, 0, "1234"), std::invalid_argument);
}

// ---- PIN_MODIFY_STRUCTURE ----------------------------------------------------------

TEST_CASE("CHANGE REFERENCE DATA: current PIN at byte 0, new PIN at byte 16")
{
    const p10::ModifyRequest request = p10::parseModifyStructure(modifyStructure({}));
    CHECK(request.asksCurrentPin);
    CHECK(request.asksConfirmation);
    CHECK(request.currentPinOffset == 0);
    CHECK(request.newPinOffset == 16);
    CHECK(request.timeoutSeconds == 30);
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, request.currentPinOffset, "1234"));
    REQUIRE(p10::insertPin(built, request.format, request.newPinOffset, "567890"));
    Bytes expected = padded(ascii("1234"), 16);
    const Bytes second = padded(ascii("567890"), 16);
    expected.insert(expected.end(), second.begin(), second.end());
    CHECK(dataField(built) == expected);
    CHECK(Bytes(built.begin(), built.begin() + 5) == Bytes{0x00, 0x24, 0x00, 0x81, 0x20});
}

TEST_CASE("RESET RETRY COUNTER uses the same layout, the unblock code as the current entry")
{
    ModifyFields f;
    f.apdu = apdu({0x00, 0x2C, 0x00, 0x81}, 32);
    const p10::ModifyRequest request = p10::parseModifyStructure(modifyStructure(f));
    Bytes built = request.apduTemplate;
    REQUIRE(p10::insertPin(built, request.format, request.currentPinOffset, "12345678"));
    REQUIRE(p10::insertPin(built, request.format, request.newPinOffset, "4321"));
    CHECK(Bytes(built.begin() + 5, built.begin() + 13) == ascii("12345678"));
    CHECK(Bytes(built.begin() + 21, built.begin() + 25) == ascii("4321"));
}

TEST_CASE("bConfirmPIN bits choose the entries")
{
    ModifyFields f;
    f.confirm = 0x00;
    p10::ModifyRequest request = p10::parseModifyStructure(modifyStructure(f));
    CHECK_FALSE(request.asksCurrentPin);
    CHECK_FALSE(request.asksConfirmation);
    f.confirm = 0x01;
    request = p10::parseModifyStructure(modifyStructure(f));
    CHECK_FALSE(request.asksCurrentPin);
    CHECK(request.asksConfirmation);
}

TEST_CASE("a modify structure with bConfirmPIN RFU bits is refused")
{
    ModifyFields f;
    f.confirm = 0x04;
    CHECK_THROWS_AS(p10::parseModifyStructure(modifyStructure(f)), p10::MalformedStructure);
}

TEST_CASE("a modify structure whose new PIN would overflow the data field is refused")
{
    ModifyFields f;
    f.offsetNew = 17;
    CHECK_THROWS_AS(p10::parseModifyStructure(modifyStructure(f)), p10::MalformedStructure);
}

TEST_CASE("the current-PIN offset only matters when the current PIN is asked for")
{
    ModifyFields f;
    f.offsetOld = 200;
    CHECK_THROWS_AS(p10::parseModifyStructure(modifyStructure(f)), p10::MalformedStructure);
    f.confirm = 0x01;
    CHECK_NOTHROW(p10::parseModifyStructure(modifyStructure(f)));
}

TEST_CASE("a modify structure with a wrong ulDataLength or cut short is refused")
{
    Bytes s = modifyStructure({});
    s.pop_back();
    CHECK_THROWS_AS(p10::parseModifyStructure(s), p10::MalformedStructure);
    CHECK_THROWS_AS(p10::parseModifyStructure(p10::ByteView(s.data(), p10::kModifyHeaderLength - 1)),
                    p10::MalformedStructure);
}

// ---- DEVICENAME --------------------------------------------------------------------

TEST_CASE("DEVICENAME is PORT:KEYPAD_FILE")
{
    const auto config = parseDeviceName("35970:/tmp/x/keypad");
    REQUIRE(config);
    CHECK(config->cardPort == 35970);
    CHECK(config->keypadFile == "/tmp/x/keypad");
    const auto withColon = parseDeviceName("1:/tmp/a:b");
    REQUIRE(withColon);
    CHECK(withColon->keypadFile == "/tmp/a:b");
    CHECK(parseDeviceName("65535:/k")->cardPort == 65535);
}

TEST_CASE("a DEVICENAME without a usable port or an absolute keypad path is refused")
{
    for (const std::string_view bad : {"", "35970", "/dev/null:0x8C7B", ":/tmp/k", "0:/tmp/k", "65536:/tmp/k",
                                       "+1:/tmp/k", "-1:/tmp/k", " 1:/tmp/k", "0x10:/tmp/k", "35970:", "35970:keypad",
                                       "35970:relative/keypad"}) {
        CAPTURE(bad);
        CHECK_FALSE(parseDeviceName(bad));
    }
}

// ---- Keypad lines ------------------------------------------------------------------

TEST_CASE("only a newline-terminated line is an entry")
{
    CHECK_FALSE(firstLineLength(""));
    CHECK_FALSE(firstLineLength("1234"));
    CHECK(firstLineLength("1234\n") == 5u);
    CHECK(firstLineLength("1234\nCANCEL\n") == 5u);
    CHECK(firstLineLength("\n") == 1u);
}

TEST_CASE("CANCEL and TIMEOUT are keys; anything else is typed characters")
{
    CHECK(interpretLine("CANCEL").key == KeyPress::Cancelled);
    CHECK(interpretLine("CANCEL\r").key == KeyPress::Cancelled);
    CHECK(interpretLine("TIMEOUT").key == KeyPress::TimedOut);
    const KeypadEntry typed = interpretLine("1234\r");
    CHECK(typed.key == KeyPress::Entered);
    CHECK(typed.typed.view() == "1234");
    const KeypadEntry lower = interpretLine("cancel");
    CHECK(lower.key == KeyPress::Entered);
    CHECK(lower.typed.view() == "cancel");
    const KeypadEntry empty = interpretLine("");
    CHECK(empty.key == KeyPress::Entered);
    CHECK(empty.typed.view().empty());
}

// ---- The keypad file ---------------------------------------------------------------

TEST_CASE("the keypad takes the first line and leaves the queue behind it")
{
    inkan::test::TempDir tmp("inkan-vpinpad-test");
    const auto file = tmp.path / "keypad";
    writeFile(file, "1234\n5678\nCANCEL\npartial");
    const Keypad keypad(file.string());

    std::optional<KeypadEntry> first = keypad.tryTake();
    REQUIRE(first);
    CHECK(first->typed.view() == "1234");
    CHECK(readFile(file) == "5678\nCANCEL\npartial");
    CHECK(keypad.tryTake()->typed.view() == "5678");
    CHECK(keypad.tryTake()->key == KeyPress::Cancelled);
    CHECK_FALSE(keypad.tryTake());  // "partial" has no newline yet
    CHECK(readFile(file) == "partial");
}

TEST_CASE("a missing keypad file is a keypad nobody has touched")
{
    inkan::test::TempDir tmp("inkan-vpinpad-test");
    const Keypad keypad((tmp.path / "absent").string());
    CHECK_FALSE(keypad.tryTake());
}

TEST_CASE("a keypad file over 64 KiB is an error, not an entry")
{
    inkan::test::TempDir tmp("inkan-vpinpad-test");
    const auto file = tmp.path / "keypad";
    writeFile(file, std::string(Keypad::kMaxFileSize + 1, '1'));
    CHECK_THROWS_AS(Keypad(file.string()).tryTake(), std::runtime_error);
}

TEST_CASE("waiting ends with a timeout when nothing is typed")
{
    inkan::test::TempDir tmp("inkan-vpinpad-test");
    const Keypad keypad((tmp.path / "keypad").string());
    const auto entry = keypad.waitForEntry(std::chrono::milliseconds(120), [] { return true; });
    REQUIRE(entry);
    CHECK(entry->key == KeyPress::TimedOut);
}

TEST_CASE("waiting ends without an entry when the card leaves")
{
    inkan::test::TempDir tmp("inkan-vpinpad-test");
    const Keypad keypad((tmp.path / "keypad").string());
    CHECK_FALSE(keypad.waitForEntry(std::chrono::seconds(5), [] { return false; }));
}
