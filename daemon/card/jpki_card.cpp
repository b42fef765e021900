// The My Number card's JPKI application, following docs/jpki.md section by section.
#include "daemon/card/jpki_card.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "daemon/card/digest_info.hpp"
#include "daemon/card/iso7816_files.hpp"
#include "daemon/card/status_words.hpp"
#include "daemon/error.hpp"

namespace inkan::card {

namespace {

using pcsc::ApduHeader;
using pcsc::ByteView;
using pcsc::CommandApdu;
using Fid = std::array<std::uint8_t, 2>;

// --- Application (jpki.md "Application and EFs") -----------------------------
// JPKI AP (jpki.h AID_JPKI), selected by DF name without response data (P2 0C), as OpenSC does.
constexpr std::array<std::uint8_t, 10> kAid{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
constexpr ApduHeader kSelectApplication{0x00, 0xA4, 0x04, 0x0C};

// Elementary files of the AP.
constexpr Fid kSignCertificateFile{0x00, 0x01};    // readable after the sign PIN
constexpr Fid kSignCaCertificateFile{0x00, 0x02};
constexpr Fid kAuthCertificateFile{0x00, 0x0A};
constexpr Fid kAuthCaCertificateFile{0x00, 0x0B};
constexpr Fid kAuthKeyFile{0x00, 0x17};
constexpr Fid kAuthPinFile{0x00, 0x18};
constexpr Fid kSignKeyFile{0x00, 0x1A};
constexpr Fid kSignPinFile{0x00, 0x1B};

// Ids inkan shows (the profile's own; OpenSC numbers them 01-04).
constexpr std::string_view kSignCertificateId = "sign";
constexpr std::string_view kSignCaCertificateId = "sign-ca";
constexpr std::string_view kAuthCertificateId = "auth";
constexpr std::string_view kAuthCaCertificateId = "auth-ca";

// --- PINs (jpki.md "PINs") ---------------------------------------------------
// 利用者証明用パスワード: exactly 4 digits, 3 tries; 署名用パスワード: 6-16 of
// A-Z and 0-9, 5 tries. Neither has an unblock code.
constexpr std::string_view kAuthPinId = "auth";
constexpr std::string_view kSignPinId = "sign";
constexpr PinFormat kAuthPinFormat{4, 4, PinFormat::Alphabet::Digits};
constexpr PinFormat kSignPinFormat{6, 16, PinFormat::Alphabet::UpperAlphanumeric};
constexpr int kAuthPinMaxTries = 3;
constexpr int kSignPinMaxTries = 5;

// VERIFY of the selected PIN EF: 00 20 00 80 [Lc PIN in ASCII]; without data
// it tells the tries left (63Cx) and spends none (card-jpki.c jpki_pin_cmd).
constexpr ApduHeader kVerify{0x00, 0x20, 0x00, 0x80};
// CHANGE REFERENCE DATA of the selected, verified PIN EF: 00 24 01 80 Lc <new PIN>.
constexpr ApduHeader kChangeReferenceData{0x00, 0x24, 0x01, 0x80};

// --- Signing (jpki.md "Signing") ---------------------------------------------
// COMPUTE DIGITAL SIGNATURE with the key of the selected key EF over a
// DigestInfo; the card adds the PKCS#1 v1.5 padding. Le 00: the 256 bytes at once.
constexpr ApduHeader kComputeSignature{0x80, 0x2A, 0x00, 0x80};
constexpr std::string_view kSignatureAlgorithmPrefix = "RSASSA-PKCS1-v1_5-";

// --- Card identity -------------------------------------------------------------
// The card has no serial file; the user authentication certificate is
// readable without a PIN and unique to the card, so the id is its hash.
constexpr std::string_view kCardIdNamespace = "jpki:";

// One PIN with the files it lives in.
struct PinFiles {
    std::string_view id;
    Fid pinFile;
    int maxTries;
};
constexpr std::array<PinFiles, 2> kPinFiles{{
    {kAuthPinId, kAuthPinFile, kAuthPinMaxTries},
    {kSignPinId, kSignPinFile, kSignPinMaxTries},
}};

// One key with its file and its certificate's.
struct KeyFiles {
    std::string_view certificateId;
    Fid keyFile;
    std::string_view pinId;
};
constexpr std::array<KeyFiles, 2> kKeyFiles{{
    {kSignCertificateId, kSignKeyFile, kSignPinId},
    {kAuthCertificateId, kAuthKeyFile, kAuthPinId},
}};

const PinFiles& pinFiles(std::string_view pinId)
{
    for (const auto& files : kPinFiles) {
        if (files.id == pinId) return files;
    }
    throw Error(ErrorCode::NotFound, "the card has no PIN with this id");
}

const KeyFiles& keyFiles(std::string_view certificateId)
{
    for (const auto& files : kKeyFiles) {
        if (files.certificateId == certificateId) return files;
    }
    throw Error(ErrorCode::BadRequest, "the card has no signing key for this certificate");
}

void selectApplication(pcsc::ApduChannel& channel)
{
    checkStatusWord(channel.transmit(CommandApdu(kSelectApplication, Bytes(kAid.begin(), kAid.end()))).sw(),
                    CardCommand::Select);
}

void selectExisting(pcsc::ApduChannel& channel, const Fid& file)
{
    if (!selectFile(channel, file)) throw Error(ErrorCode::CardError, "the JPKI application lacks a file it must have");
}

Bytes certificate(pcsc::ApduChannel& channel, const Fid& file)
{
    auto der = readCertificateFile(channel, file);
    if (!der) throw Error(ErrorCode::CardError, "the JPKI application lacks a certificate it must have");
    return std::move(*der);
}

// The PIN EF selected: its tries left, none spent.
PinStatus readPinStatus(pcsc::ApduChannel& channel, const PinFiles& pin)
{
    return pinStatusFromStatusWord(channel.transmit(CommandApdu(kVerify)).sw(), pin.maxTries);
}

// The PIN EF selected: the guard's read, then VERIFY. A VERIFY the card
// accepts (9000) sets the counter back to the PIN's maximum (jpki.md "Commands"),
// which is what the PIN's state is afterwards; no second read is needed.
PinStatus verifySelected(pcsc::ApduChannel& channel, const PinFiles& pin, const Secret& value, const PinCheck& check)
{
    if (check) check(readPinStatus(channel, pin));
    const auto text = value.view();
    checkStatusWord(channel.transmit(CommandApdu(kVerify, Bytes(text.begin(), text.end()))).sw(), CardCommand::VerifyPin);
    return PinStatus{pin.maxTries, pin.maxTries, false};
}

const PinFiles& selectPin(pcsc::ApduChannel& channel, std::string_view pinId)
{
    const auto& pin = pinFiles(pinId);
    selectApplication(channel);
    selectExisting(channel, pin.pinFile);
    return pin;
}

// PIN pad entry would need the reader to insert the PIN's length into the
// APDU (the card takes no padding); not offered for this card.
const Secret& typed(const PinInput& input)
{
    if (input.isOnPinpad()) {
        throw Error(ErrorCode::UnsupportedOperation, "PIN pad entry is not supported for the My Number card");
    }
    return input.value();
}

}  // namespace

const std::vector<PinInfo>& JpkiCard::pins() const
{
    // The signature PIN first: it guards the signing key, the card's default.
    static const std::vector<PinInfo> table{
        {std::string(kSignPinId), "digital signature PIN (署名用パスワード)", kSignPinFormat, std::nullopt},
        {std::string(kAuthPinId), "user authentication PIN (利用者証明用パスワード)", kAuthPinFormat, std::nullopt},
    };
    return table;
}

const std::vector<KeyInfo>& JpkiCard::keys() const
{
    static const std::vector<KeyInfo> table = [] {
        std::vector<KeyInfo> keys;
        for (const auto& files : kKeyFiles) keys.push_back({std::string(files.certificateId), std::string(files.pinId)});
        return keys;
    }();
    return table;
}

const std::vector<ProtectedCertificate>& JpkiCard::protectedCertificates() const
{
    static const std::vector<ProtectedCertificate> table{{std::string(kSignCertificateId), std::string(kSignPinId)}};
    return table;
}

CardIdentity JpkiCard::readIdentity(pcsc::ApduChannel& channel) const
{
    selectApplication(channel);
    auto authCertificate = certificate(channel, kAuthCertificateFile);
    auto cardId = cardIdFor(kCardIdNamespace, authCertificate);
    return CardIdentity{std::move(authCertificate), std::move(cardId)};
}

std::vector<TokenCertificate> JpkiCard::readCertificates(pcsc::ApduChannel& channel) const
{
    selectApplication(channel);
    std::vector<TokenCertificate> certificates;
    certificates.push_back({std::string(kAuthCertificateId), certificate(channel, kAuthCertificateFile)});
    certificates.push_back({std::string(kSignCaCertificateId), certificate(channel, kSignCaCertificateFile)});
    certificates.push_back({std::string(kAuthCaCertificateId), certificate(channel, kAuthCaCertificateFile)});
    return certificates;
}

TokenCertificate JpkiCard::readProtectedCertificate(pcsc::ApduChannel& channel, std::string_view certificateId) const
{
    if (certificateId != kSignCertificateId) return Token::readProtectedCertificate(channel, certificateId);
    // The AP is selected and the sign PIN verified (the caller's VERIFY, same transaction).
    return TokenCertificate{std::string(kSignCertificateId), certificate(channel, kSignCertificateFile)};
}

PinStatus JpkiCard::pinStatus(pcsc::ApduChannel& channel, std::string_view pinId) const
{
    return readPinStatus(channel, selectPin(channel, pinId));
}

PinStatus JpkiCard::verifyPin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                              const PinCheck& check) const
{
    const auto& value = typed(pin);
    this->pin(pinId).format.check(value, "PIN");
    return verifySelected(channel, selectPin(channel, pinId), value, check);
}

PinStatus JpkiCard::changePin(pcsc::ApduChannel& channel, std::string_view pinId, const PinInput& pin,
                              const PinInput& newPin, const PinCheck& check) const
{
    const auto& value = typed(pin);
    const auto& newValue = typed(newPin);
    const auto& format = this->pin(pinId).format;
    format.check(value, "PIN");
    format.check(newValue, "new PIN");
    // CHANGE needs the PIN verified first: the current PIN's VERIFY is what spends a try.
    const auto& files = selectPin(channel, pinId);
    auto status = verifySelected(channel, files, value, check);
    const auto text = newValue.view();
    checkStatusWord(channel.transmit(CommandApdu(kChangeReferenceData, Bytes(text.begin(), text.end()))).sw(),
                    CardCommand::ChangePin);
    return status;
}

TokenSignature JpkiCard::sign(pcsc::ApduChannel& channel, std::string_view certificateId, DigestAlgorithm algorithm,
                              ByteView digest, const PinInput* pin, const PinCheck& check) const
{
    // Everything that can be refused without the card is refused first.
    const auto& key = keyFiles(certificateId);
    auto data = digestInfo(algorithm, digest);
    const Secret* value = pin ? &typed(*pin) : nullptr;
    if (value) this->pin(key.pinId).format.check(*value, "PIN");

    std::optional<PinStatus> status;
    if (value) status = verifySelected(channel, selectPin(channel, key.pinId), *value, check);
    else selectApplication(channel);
    selectExisting(channel, key.keyFile);
    auto response = channel.transmit(CommandApdu(kComputeSignature, std::move(data), CommandApdu::kMaxShortLe));
    checkStatusWord(response.sw(), CardCommand::ComputeSignature);
    if (response.data().empty()) throw Error(ErrorCode::CardError, "the card returned an empty signature");
    return TokenSignature{response.takeData(),
                          std::string(kSignatureAlgorithmPrefix) + std::string(digestAlgorithmName(algorithm)), status};
}

}  // namespace inkan::card
