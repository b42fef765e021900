// The inkan reference card, following docs/reference-card.md section by section.
#include "daemon/card/reference_card.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <openssl/evp.h>

#include "daemon/card/digest_info.hpp"
#include "daemon/card/iso7816_files.hpp"
#include "daemon/card/status_words.hpp"
#include "daemon/error.hpp"

namespace inkan::card {

namespace {

using pcsc::ApduHeader;
using pcsc::ByteView;
using pcsc::CommandApdu;

// --- Application (reference-card.md "Application") ---------------------------
// AID: F0 = proprietary, unregistered (ISO/IEC 7816-5), then "INKAN", version 1.
constexpr std::array<std::uint8_t, 7> kAid{0xF0, 0x49, 0x4E, 0x4B, 0x41, 0x4E, 0x01};
// SELECT by DF name, P2 00 = return the FCI (ISO/IEC 7816-4 §11.2.2), Le 00.
constexpr ApduHeader kSelectApplication{0x00, 0xA4, 0x04, 0x00};
// The FCI (reference-card.md "Application"): template 6F, and in it the
// proprietary template A5 (BER-TLV) telling each PIN's maximum of tries, one
// byte under the PIN's reference as tag: 81 = the user PIN, 82 = the unblock code.
constexpr std::uint8_t kFciTemplate = 0x6F;
constexpr std::uint8_t kFciProprietary = 0xA5;
constexpr std::uint8_t kBerLongLength1 = 0x81;  // one length byte follows

// Elementary files (two-byte file identifiers).
constexpr std::array<std::uint8_t, 2> kSigningCertificateFile{0xC0, 0x01};  // DER, 1-2 KiB
constexpr std::array<std::uint8_t, 2> kCaCertificateFile{0xC0, 0x02};       // DER, optional (6A82)
constexpr std::array<std::uint8_t, 2> kSerialFile{0xD0, 0x01};              // 8 bytes, binary
constexpr std::size_t kSerialLength = 8;

constexpr std::string_view kSigningCertificateId = "sign";
constexpr std::string_view kCaCertificateId = "ca";
// The card's one PIN and its one key (the key of the signing certificate).
constexpr std::string_view kUserPinId = "user";

// --- PINs (reference-card.md "PINs") ----------------------------------------
// 81 = user PIN, 82 = unblock code. RESET RETRY COUNTER names the user PIN
// and carries the unblock code in its data; 82 is only asked for its counter.
constexpr std::uint8_t kUserPinReference = 0x81;
constexpr std::uint8_t kUnblockCodeReference = 0x82;
constexpr std::size_t kPinBlockLength = 16;  // ASCII digits, padded ...
constexpr std::uint8_t kPinPadding = 0xFF;   // ... with FF
constexpr std::size_t kMinPinLength = 4;
constexpr std::size_t kMaxPinLength = 16;
constexpr std::size_t kUnblockCodeLength = 8;
// The user PIN: 4 to 16 ASCII digits; the unblock code: 8 digits.
constexpr PinFormat kPinFormat{kMinPinLength, kMaxPinLength, PinFormat::Alphabet::Digits};
constexpr PinFormat kUnblockCodeFormat{kUnblockCodeLength, kUnblockCodeLength, PinFormat::Alphabet::Digits};
// A maximum the card tells must fit the x of 63Cx (ISO/IEC 7816-4 §5.6).
constexpr int kMaxTriesLimit = 15;

// VERIFY, P1 00, P2 = reference (ISO/IEC 7816-4 §11.5.6).
constexpr std::uint8_t kVerifyIns = 0x20;
// CHANGE REFERENCE DATA, P1 00 = old and new value in the data (ISO/IEC 7816-4 §11.5.7).
constexpr ApduHeader kChangeReferenceData{0x00, 0x24, 0x00, kUserPinReference};
// RESET RETRY COUNTER, P1 00 = unblock code and new PIN in the data (ISO/IEC 7816-4 §11.5.10).
constexpr ApduHeader kResetRetryCounter{0x00, 0x2C, 0x00, kUserPinReference};

// --- Signing (reference-card.md "Signing") ----------------------------------
// MSE SET, P1 41 = set for computation, P2 B6 = digital signature template
// (ISO/IEC 7816-4 §11.5.11, ISO/IEC 7816-8 §5.1).
constexpr ApduHeader kMseSetSignature{0x00, 0x22, 0x41, 0xB6};
constexpr std::uint8_t kTagAlgorithmReference = 0x80;
constexpr std::uint8_t kTagKeyReference = 0x84;
constexpr std::uint8_t kAlgorithmRsaPkcs1 = 0x02;  // RSASSA-PKCS1-v1_5 over the DigestInfo given
constexpr std::uint8_t kSigningKeyReference = 0x01;  // the RSA-2048 key of EF C001
// The control reference template: two one-byte TLVs.
constexpr std::array<std::uint8_t, 6> kMseSetSignatureData{
    kTagAlgorithmReference, 0x01, kAlgorithmRsaPkcs1, kTagKeyReference, 0x01, kSigningKeyReference};
// PSO COMPUTE DIGITAL SIGNATURE: P1 9E = return the signature, P2 9A = the
// data field holds the data to sign (ISO/IEC 7816-8 §5.4). Le 00: the card
// answers 6100 and the channel collects the 256 bytes with GET RESPONSE.
constexpr ApduHeader kComputeSignature{0x00, 0x2A, 0x9E, 0x9A};
constexpr std::string_view kSignatureAlgorithmPrefix = "RSASSA-PKCS1-v1_5-";

// --- PIN pad (PC/SC part 10, daemon/pcsc/pinpad.hpp) ------------------------
// The reader gets the same commands with the PIN blocks as templates (all
// FF) and writes what the user types over their start: ASCII digits, left
// justified, no length field. bmPINBlockString stays 0: its 4-bit block size
// cannot say 16, and the padding is already in the template.
constexpr std::uint8_t kPinpadFormat = pcsc::part10::kFormatUnitsBytes | pcsc::part10::kFormatEncodingAscii;
constexpr std::uint8_t kPinpadTimeoutSeconds = 30;
constexpr std::uint16_t kPinpadLanguageJapanese = 0x0411;
// The reader's own prompts (bMsgIndex): 0 "enter PIN", 1 "new PIN", 2 "confirm".
constexpr std::uint8_t kPinpadMessagesVerify = 1;
constexpr std::uint8_t kPinpadMessagesModify = 3;

// --- Card identity ----------------------------------------------------------
constexpr std::string_view kCardIdNamespace = "inkan-reference:";

// --- Helpers ----------------------------------------------------------------

void checkPinFormat(const Secret& pin) { kPinFormat.check(pin, "PIN"); }

void checkUnblockCodeFormat(const Secret& code) { kUnblockCodeFormat.check(code, "unblock code"); }

// Appends the 16-byte PIN block for `secret` to `out`, which the caller has
// reserved big enough (no reallocation may leave a copy behind) and wipes.
void appendPinBlock(Bytes& out, const Secret& secret)
{
    const auto value = secret.view();
    out.insert(out.end(), value.begin(), value.end());
    out.insert(out.end(), kPinBlockLength - value.size(), kPinPadding);
}

Bytes pinData(const Secret& first, const Secret* second = nullptr)
{
    Bytes data;
    data.reserve(2 * kPinBlockLength);
    appendPinBlock(data, first);
    if (second) appendPinBlock(data, *second);
    return data;
}

void transmitExpectingSuccess(pcsc::ApduChannel& channel, const CommandApdu& command, CardCommand what)
{
    checkStatusWord(channel.transmit(command).sw(), what);
}

// The tries each PIN starts with (and returns to after a success), as the card tells them.
struct TryMaxima {
    int userPin = 0;
    int unblockCode = 0;
};

// The value of the first TLV tagged `tag` in `data` (one-byte tags, lengths
// up to 255); none when absent or malformed.
std::optional<ByteView> findTlv(ByteView data, std::uint8_t tag)
{
    std::size_t i = 0;
    while (data.size() - i >= 2) {
        std::size_t length = data[i + 1];
        std::size_t header = 2;
        if (length == kBerLongLength1) {
            if (data.size() - i < 3) return std::nullopt;
            length = data[i + 2];
            header = 3;
        } else if (length > 0x7F) {
            return std::nullopt;
        }
        if (data.size() - i - header < length) return std::nullopt;
        if (data[i] == tag) return data.subspan(i + header, length);
        i += header + length;
    }
    return std::nullopt;
}

// Selects the application; answers its FCI.
Bytes selectApplication(pcsc::ApduChannel& channel)
{
    auto response = channel.transmit(
        CommandApdu(kSelectApplication, Bytes(kAid.begin(), kAid.end()), CommandApdu::kMaxShortLe));
    checkStatusWord(response.sw(), CardCommand::Select);
    return response.takeData();
}

// The maxima the FCI tells. A card that does not tell them cannot say how
// many tries a PIN has: a card error rather than a guess.
TryMaxima tryMaxima(ByteView fci)
{
    const auto maximum = [&](std::uint8_t reference) {
        const auto fcp = findTlv(fci, kFciTemplate);
        const auto proprietary = fcp ? findTlv(*fcp, kFciProprietary) : std::nullopt;
        const auto value = proprietary ? findTlv(*proprietary, reference) : std::nullopt;
        if (!value || value->size() != 1 || (*value)[0] < 1 || (*value)[0] > kMaxTriesLimit) {
            throw Error(ErrorCode::CardError, "the card's FCI does not tell the maximum tries of PIN reference " +
                                                  pcsc::toHex(ByteView(&reference, 1)));
        }
        return int{(*value)[0]};
    };
    return TryMaxima{maximum(kUserPinReference), maximum(kUnblockCodeReference)};
}

CommandApdu verifyCommand(std::uint8_t reference, Bytes pinBlock = {})
{
    return CommandApdu(ApduHeader{0x00, kVerifyIns, 0x00, reference}, std::move(pinBlock));
}

void verify(pcsc::ApduChannel& channel, const Secret& pin)
{
    transmitExpectingSuccess(channel, verifyCommand(kUserPinReference, pinData(pin)), CardCommand::VerifyPin);
}

pcsc::part10::PinEntryFormat pinpadFormat()
{
    pcsc::part10::PinEntryFormat format;
    format.timeoutSeconds = kPinpadTimeoutSeconds;
    format.formatString = kPinpadFormat;
    // One range for every value typed: for RESET RETRY COUNTER it also covers
    // the 8-digit unblock code, and the card refuses (6A80, no try) what the
    // pad let through.
    format.minPinLength = kMinPinLength;
    format.maxPinLength = kMaxPinLength;
    format.entryValidation = pcsc::part10::kValidateOnOkKey;
    format.languageId = kPinpadLanguageJapanese;
    return format;
}

Bytes blankPinBlocks(std::size_t count) { return Bytes(count * kPinBlockLength, kPinPadding); }

void verifyOnPinpad(pcsc::ApduChannel& channel)
{
    pcsc::part10::PinVerifyParameters parameters;
    static_cast<pcsc::part10::PinEntryFormat&>(parameters) = pinpadFormat();
    parameters.messageCount = kPinpadMessagesVerify;
    parameters.apdu = verifyCommand(kUserPinReference, blankPinBlocks(1)).encode();
    checkPinpadStatusWord(channel.verifyOnPinpad(parameters).sw(), CardCommand::VerifyPin);
}

// CHANGE REFERENCE DATA or RESET RETRY COUNTER on the pad: the current value
// (PIN or unblock code) into the first block, the new PIN, typed twice, into the second.
void modifyOnPinpad(pcsc::ApduChannel& channel, const ApduHeader& header, CardCommand what)
{
    pcsc::part10::PinModifyParameters parameters;
    static_cast<pcsc::part10::PinEntryFormat&>(parameters) = pinpadFormat();
    parameters.currentOffset = 0;
    parameters.newOffset = kPinBlockLength;
    parameters.confirm = pcsc::part10::kAskCurrentPin | pcsc::part10::kConfirmNewPin;
    parameters.messageCount = kPinpadMessagesModify;
    parameters.messageIndex1 = 0;
    parameters.messageIndex2 = 1;
    parameters.messageIndex3 = 2;
    parameters.apdu = CommandApdu(header, blankPinBlocks(2)).encode();
    checkPinpadStatusWord(channel.modifyOnPinpad(parameters).sw(), what);
}

// CHANGE REFERENCE DATA or RESET RETRY COUNTER, the application selected:
// the current value (the PIN, or the unblock code) and the new PIN, both from
// the caller or both typed on the PIN pad.
void replacePin(pcsc::ApduChannel& channel, const ApduHeader& header, CardCommand what, const PinInput& current,
                const PinInput& newPin)
{
    if (current.isOnPinpad()) modifyOnPinpad(channel, header, what);
    else transmitExpectingSuccess(channel, CommandApdu(header, pinData(current.value(), &newPin.value())), what);
}

// Both values of a change or unblock come from the same place; a value
// given has the right format (`checkCurrent` for the current one).
void checkReplacement(const PinInput& current, const PinInput& newPin, void (*checkCurrent)(const Secret&))
{
    if (current.isOnPinpad() != newPin.isOnPinpad()) {
        throw Error(ErrorCode::Internal, "both values of a PIN change come from the PIN pad, or neither");
    }
    if (!current.isOnPinpad()) {
        checkCurrent(current.value());
        checkPinFormat(newPin.value());
    }
}

// VERIFY without data, the application selected: the state of PIN
// `reference`, no try spent (reference-card.md "PINs").
PinStatus readPinStatus(pcsc::ApduChannel& channel, std::uint8_t reference, int maxTries)
{
    return pinStatusFromStatusWord(channel.transmit(verifyCommand(reference)).sw(), maxTries);
}

// Before a command that spends a try of PIN `reference`: the counter it
// spends from, for the caller's check (none: nothing read).
void checkBeforeSpending(pcsc::ApduChannel& channel, const PinCheck& check, std::uint8_t reference, int maxTries)
{
    if (check) check(readPinStatus(channel, reference, maxTries));
}

}  // namespace

const std::vector<PinInfo>& ReferenceCard::pins() const
{
    static const std::vector<PinInfo> table{{std::string(kUserPinId), "PIN", kPinFormat, kUnblockCodeFormat}};
    return table;
}

const std::vector<KeyInfo>& ReferenceCard::keys() const
{
    static const std::vector<KeyInfo> table{{std::string(kSigningCertificateId), std::string(kUserPinId)}};
    return table;
}

std::string ReferenceCard::cardIdForSerial(ByteView serial) { return cardIdFor(kCardIdNamespace, serial); }

CardIdentity ReferenceCard::readIdentity(pcsc::ApduChannel& channel) const
{
    selectApplication(channel);
    if (!selectFile(channel, kSerialFile)) throw Error(ErrorCode::CardError, "the card has no serial number file");
    auto serial = readBinary(channel, 0, kSerialLength);
    if (serial.size() != kSerialLength) throw Error(ErrorCode::CardError, "the card's serial number has the wrong length");
    auto cardId = cardIdForSerial(serial);
    return CardIdentity{std::move(serial), std::move(cardId)};
}

std::vector<TokenCertificate> ReferenceCard::readCertificates(pcsc::ApduChannel& channel) const
{
    selectApplication(channel);
    std::vector<TokenCertificate> certificates;
    auto signing = readCertificateFile(channel, kSigningCertificateFile);
    if (!signing) throw Error(ErrorCode::CardError, "the card has no signing certificate");
    certificates.push_back(TokenCertificate{std::string(kSigningCertificateId), std::move(*signing)});
    if (auto ca = readCertificateFile(channel, kCaCertificateFile)) {
        certificates.push_back(TokenCertificate{std::string(kCaCertificateId), std::move(*ca)});
    }
    return certificates;
}

PinStatus ReferenceCard::pinStatus(pcsc::ApduChannel& channel, std::string_view pinId) const
{
    pin(pinId);
    const auto maxima = tryMaxima(selectApplication(channel));
    return readPinStatus(channel, kUserPinReference, maxima.userPin);
}

PinStatus ReferenceCard::unblockCodeStatus(pcsc::ApduChannel& channel, std::string_view pinId) const
{
    pin(pinId);
    const auto maxima = tryMaxima(selectApplication(channel));
    return readPinStatus(channel, kUnblockCodeReference, maxima.unblockCode);
}

// Each operation below selects the application once; the check, the command
// that spends a try and the read-back all follow that one SELECT.

PinStatus ReferenceCard::verifyPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                                   const PinCheck& check) const
{
    this->pin(pinId);
    if (!pin.isOnPinpad()) checkPinFormat(pin.value());
    const auto maxima = tryMaxima(selectApplication(channel));
    checkBeforeSpending(channel, check, kUserPinReference, maxima.userPin);
    if (pin.isOnPinpad()) verifyOnPinpad(channel);
    else verify(channel, pin.value());
    // Verified: 9000, the counter back at the card's maximum.
    return readPinStatus(channel, kUserPinReference, maxima.userPin);
}

PinStatus ReferenceCard::changePin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                                   const PinInput& newPin, const PinCheck& check) const
{
    this->pin(pinId);
    checkReplacement(pin, newPin, card::checkPinFormat);
    const auto maxima = tryMaxima(selectApplication(channel));
    checkBeforeSpending(channel, check, kUserPinReference, maxima.userPin);
    replacePin(channel, kChangeReferenceData, CardCommand::ChangePin, pin, newPin);
    return readPinStatus(channel, kUserPinReference, maxima.userPin);
}

PinStatus ReferenceCard::unblockPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& unblockCode,
                                    const PinInput& newPin, const PinCheck& check) const
{
    pin(pinId);
    checkReplacement(unblockCode, newPin, card::checkUnblockCodeFormat);
    const auto maxima = tryMaxima(selectApplication(channel));
    // RESET RETRY COUNTER spends a try of the unblock code, not of the PIN.
    checkBeforeSpending(channel, check, kUnblockCodeReference, maxima.unblockCode);
    replacePin(channel, kResetRetryCounter, CardCommand::UnblockPin, unblockCode, newPin);
    return readPinStatus(channel, kUserPinReference, maxima.userPin);
}

TokenSignature ReferenceCard::sign(pcsc::ApduChannel& channel, std::string_view certificateId,
                                   DigestAlgorithm algorithm, ByteView digest, const PinInput* pin,
                                   const PinCheck& check) const
{
    // Everything that can be refused without the card is refused first.
    key(certificateId);
    auto data = digestInfo(algorithm, digest);
    if (pin && !pin->isOnPinpad()) checkPinFormat(pin->value());

    const auto maxima = tryMaxima(selectApplication(channel));
    if (pin) checkBeforeSpending(channel, check, kUserPinReference, maxima.userPin);
    if (pin && pin->isOnPinpad()) verifyOnPinpad(channel);
    else if (pin) verify(channel, pin->value());
    transmitExpectingSuccess(channel,
                             CommandApdu(kMseSetSignature, Bytes(kMseSetSignatureData.begin(), kMseSetSignatureData.end())),
                             CardCommand::ManageSecurityEnvironment);
    auto response = channel.transmit(CommandApdu(kComputeSignature, std::move(data), CommandApdu::kMaxShortLe));
    checkStatusWord(response.sw(), CardCommand::ComputeSignature);
    if (response.data().empty()) throw Error(ErrorCode::CardError, "the card returned an empty signature");
    auto signature = response.takeData();
    // The signature used up the verification: the counter is what is left.
    return TokenSignature{std::move(signature),
                          std::string(kSignatureAlgorithmPrefix) + std::string(digestAlgorithmName(algorithm)),
                          readPinStatus(channel, kUserPinReference, maxima.userPin)};
}

}  // namespace inkan::card
