// inkan-vcard — the JPKI card's command set.
//
// Every constant is from docs/jpki.md, which takes OpenSC's jpki driver
// (card-jpki.c, pkcs15-jpki.c, jpki.h) as the authority; where the card must
// choose and no source says how, the choice is written next to the code and in
// docs/jpki.md ("Choices").
#include "tools/vcard/jpki_card.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <thread>

namespace inkan::vcard::jpki {

namespace {

using namespace apdu;  // status words, Command, GET RESPONSE

// ---- ATR (card-jpki.c jpki_atrs) ----------------------------------------------------
// TS=3B, T0=E0 (TB1 TC1 TD1, no historical bytes), TB1=00, TC1=FF, TD1=81 (T=1, TD2),
// TD2=31 (TA3 TB3, T=1), TA3=FE (IFSC 254), TB3=45, TCK=14.
constexpr std::array<std::uint8_t, 9> kAtr{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14};

// ---- The JPKI AP (jpki.h AID_JPKI) ---------------------------------------------------
constexpr std::array<std::uint8_t, 10> kAid{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};

// ---- Its EFs (jpki.h; pkcs15-jpki.c jpki_cert_paths; token info from jpki/myna) -----
constexpr std::uint16_t kFidSignCertificate = 0x0001;
constexpr std::uint16_t kFidSignCaCertificate = 0x0002;
constexpr std::uint16_t kFidTokenInfo = 0x0006;
constexpr std::uint16_t kFidAuthCertificate = 0x000A;
constexpr std::uint16_t kFidAuthCaCertificate = 0x000B;
constexpr std::uint16_t kFidAuthKey = 0x0017;
constexpr std::uint16_t kFidAuthPin = 0x0018;
constexpr std::uint16_t kFidSignKey = 0x001A;
constexpr std::uint16_t kFidSignPin = 0x001B;
constexpr std::size_t kFidLength = 2;

using Kind = JpkiCard::EfKind;
constexpr std::array<JpkiCard::Ef, 9> kEfs{{
    {kFidSignCertificate, Kind::Certificate, KeyPair::Sign},
    {kFidSignCaCertificate, Kind::CaCertificate, KeyPair::Sign},
    {kFidTokenInfo, Kind::TokenInfo, KeyPair::Auth},
    {kFidAuthCertificate, Kind::Certificate, KeyPair::Auth},
    {kFidAuthCaCertificate, Kind::CaCertificate, KeyPair::Auth},
    {kFidAuthKey, Kind::Key, KeyPair::Auth},
    {kFidAuthPin, Kind::Pin, KeyPair::Auth},
    {kFidSignKey, Kind::Key, KeyPair::Sign},
    {kFidSignPin, Kind::Pin, KeyPair::Sign},
}};

// EF 0006: "JPKIAPICCTOKEN2" space-padded to 0x20 bytes names a My Number card
// (jpki/myna reads 0x20 bytes and trims spaces; "JPKIAPICCTOKEN" was the Juki card).
constexpr std::string_view kTokenName = "JPKIAPICCTOKEN2";
constexpr std::size_t kTokenInfoLength = 0x20;

// ---- Classes and instructions (card-jpki.c) ------------------------------------------
constexpr std::uint8_t kClaInterindustry = 0x00;
constexpr std::uint8_t kClaProprietary = 0x80;  // COMPUTE DIGITAL SIGNATURE only
constexpr std::uint8_t kInsSelect = 0xA4;
constexpr std::uint8_t kInsReadBinary = 0xB0;
constexpr std::uint8_t kInsVerify = 0x20;
constexpr std::uint8_t kInsChangeReferenceData = 0x24;
constexpr std::uint8_t kInsComputeDigitalSignature = 0x2A;

// SELECT: P1 04 = by DF name (the AP), 02 = EF under the current DF; P2 0C = no
// response data (what OpenSC sends); P2 00 is accepted and answered without FCI.
constexpr std::uint8_t kSelectByDfName = 0x04;
constexpr std::uint8_t kSelectEfUnderCurrentDf = 0x02;
constexpr std::uint8_t kSelectNoResponseData = 0x0C;
constexpr std::uint8_t kSelectFirstWithFci = 0x00;

// READ BINARY: P1 bit 8 set would mean a short EF identifier; the card has none.
constexpr std::uint8_t kReadBinaryShortEfFlag = 0x80;

// VERIFY 00 20 00 80 (card-jpki.c jpki_pin_cmd): the PIN of the selected PIN EF.
constexpr std::uint8_t kVerifyP1 = 0x00;
constexpr std::uint8_t kPinOfCurrentEf = 0x80;
// CHANGE REFERENCE DATA 00 24 01 80 <new PIN>, after VERIFY (jpki/myna ChangePin):
// P1 01 = only the new value in the data field (ISO 7816-4 §11.5.7).
constexpr std::uint8_t kChangeNewValueOnly = 0x01;

// COMPUTE DIGITAL SIGNATURE 80 2A 00 80 Lc <DigestInfo> 00 (card-jpki.c jpki_compute_signature).
constexpr std::uint8_t kSignatureP1 = 0x00;
constexpr std::uint8_t kSignatureP2 = 0x80;

// PIN formats: auth 4 digits; sign 6-16 of A-Z and 0-9 (pkcs15-jpki.c jpki_pin_min/max).
constexpr std::size_t kAuthPinLength = 4;
constexpr std::size_t kSignPinMinLength = 6;
constexpr std::size_t kSignPinMaxLength = 16;

bool isValidPin(KeyPair pin, ByteView value)
{
    const auto isDigit = [](std::uint8_t b) { return b >= '0' && b <= '9'; };
    const auto isUpperOrDigit = [&](std::uint8_t b) { return isDigit(b) || (b >= 'A' && b <= 'Z'); };
    if (pin == KeyPair::Auth) return value.size() == kAuthPinLength && std::all_of(value.begin(), value.end(), isDigit);
    return value.size() >= kSignPinMinLength && value.size() <= kSignPinMaxLength &&
           std::all_of(value.begin(), value.end(), isUpperOrDigit);
}

Secret secretOf(ByteView value)
{
    return Secret(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
}

}  // namespace

JpkiCard::JpkiCard(JpkiStore& store, JpkiCardOptions options) : store_(store), options_(options)
{
    tokenInfo_.assign(kTokenName.begin(), kTokenName.end());
    tokenInfo_.resize(kTokenInfoLength, ' ');
}

ByteView JpkiCard::atr() noexcept
{
    return kAtr;
}

void JpkiCard::endSession() noexcept
{
    apSelected_ = false;
    currentEf_.reset();
    authPinVerified_ = false;
    signPinVerified_ = false;
    pending_.clear();
}

Bytes JpkiCard::transmit(ByteView raw)
{
    pending_.forgetUnlessGetResponse(raw);
    try {
        if (raw.size() < kHeaderLength) return status(kSwWrongLength);
        const std::uint8_t cla = raw[0];
        const std::uint8_t ins = raw[1];
        const bool known = (cla == kClaInterindustry && (ins == kInsSelect || ins == kInsReadBinary ||
                                                         ins == kInsVerify || ins == kInsChangeReferenceData ||
                                                         ins == kInsGetResponse)) ||
                           (cla == kClaProprietary && ins == kInsComputeDigitalSignature);
        if (cla != kClaInterindustry && cla != kClaProprietary) return status(kSwClaNotSupported);
        // No RESET RETRY COUNTER (2C) among them: a blocked PIN is reset at the municipal office.
        if (!known) return status(kSwInsNotSupported);
        const auto command = Command::parse(raw);
        if (!command) return status(kSwWrongLength);
        return dispatch(*command);
    } catch (const StoreError&) {
        // A PIN counter could not be written: refuse, and never leave a PIN verified.
        authPinVerified_ = signPinVerified_ = false;
        return status(kSwMemoryFailure);
    } catch (const std::exception&) {
        authPinVerified_ = signPinVerified_ = false;
        return status(kSwNoPreciseDiagnosis);
    }
}

Bytes JpkiCard::dispatch(const Command& c)
{
    switch (c.ins) {
    case kInsSelect: return select(c);
    case kInsReadBinary: return readBinary(c);
    case kInsVerify: return verify(c);
    case kInsChangeReferenceData: return changeReferenceData(c);
    case kInsComputeDigitalSignature: return computeDigitalSignature(c);
    case kInsGetResponse: return pending_.getResponse(c);
    default: return status(kSwInsNotSupported);
    }
}

// SELECT the AP by name, or one of its EFs by FID. Selecting keeps verified PINs:
// OpenSC verifies, then selects the key EF, then signs (card-jpki.c).
Bytes JpkiCard::select(const Command& c)
{
    if (c.p2 != kSelectNoResponseData && c.p2 != kSelectFirstWithFci) return status(kSwWrongP1P2);
    if (c.p1 == kSelectByDfName) {
        if (!c.hasData()) return status(kSwWrongLength);
        if (!std::equal(c.data.begin(), c.data.end(), kAid.begin(), kAid.end())) return status(kSwFileNotFound);
        apSelected_ = true;
        currentEf_.reset();
        return status(kSwOk);
    }
    if (c.p1 == kSelectEfUnderCurrentDf) {
        if (c.data.size() != kFidLength) return status(kSwWrongLength);
        // Choice: the EFs live in the JPKI AP only; before it is selected none is found.
        if (!apSelected_) return status(kSwFileNotFound);
        const auto fid = static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]);
        const auto ef = std::find_if(kEfs.begin(), kEfs.end(), [&](const Ef& e) { return e.fid == fid; });
        if (ef == kEfs.end()) return status(kSwFileNotFound);  // current EF unchanged
        currentEf_ = *ef;
        return status(kSwOk);
    }
    return status(kSwWrongP1P2);
}

std::optional<ByteView> JpkiCard::contents(const Ef& ef) const
{
    switch (ef.kind) {
    case EfKind::Certificate: return ByteView(store_.certificate(ef.pair));
    case EfKind::CaCertificate: return ByteView(store_.caCertificate(ef.pair));
    case EfKind::TokenInfo: return ByteView(tokenInfo_);
    case EfKind::Key:
    case EfKind::Pin: return std::nullopt;  // never readable
    }
    return std::nullopt;
}

// READ BINARY 00 B0 <offset> Le: OpenSC reads 4 bytes (the DER header) for the
// size, then the rest in chunks of at most 256.
Bytes JpkiCard::readBinary(const Command& c)
{
    if (c.p1 & kReadBinaryShortEfFlag) return status(kSwWrongP1P2);
    if (c.hasData() || !c.le) return status(kSwWrongLength);
    if (!currentEf_) return status(kSwNoCurrentEf);
    const auto file = contents(*currentEf_);
    if (!file) return status(kSwIncompatibleFile);
    // The signing certificate names its holder: only after the sign PIN is verified.
    if (currentEf_->kind == EfKind::Certificate && currentEf_->pair == KeyPair::Sign && !signPinVerified_)
        return status(kSwSecurityNotSatisfied);
    const std::size_t offset = static_cast<std::size_t>(c.p1) << 8 | c.p2;
    if (offset >= file->size()) return status(kSwWrongOffset);
    const std::size_t left = file->size() - offset;
    // Choice (ISO 7816-4 §11.2.3): a read past the end returns what is there with 6282.
    if (*c.le > left) return dataAndStatus(file->subspan(offset, left), kSwEndOfFile);
    return dataAndStatus(file->subspan(offset, *c.le), kSwOk);
}

// VERIFY 00 20 00 80 [Lc PIN] on the selected PIN EF.
Bytes JpkiCard::verify(const Command& c)
{
    if (c.p1 != kVerifyP1 || c.p2 != kPinOfCurrentEf) return status(kSwWrongP1P2);
    if (!currentEf_) return status(kSwNoCurrentEf);
    if (currentEf_->kind != EfKind::Pin) return status(kSwIncompatibleFile);
    const KeyPair pin = currentEf_->pair;
    const int left = store_.triesLeft(pin);

    // No data: tries left as 63Cx, no try spent. Choice: 63Cx also when the PIN is
    // verified (OpenSC's GET_INFO fails on any SW1 but 63) and 63C0 when it is blocked.
    if (!c.hasData()) {
        if (c.le && *c.le != kShortLeMax) return status(kSwWrongLength);
        return status(verifyFailed(left));
    }
    if (c.le) return status(kSwWrongLength);
    if (left == 0) return status(kSwAuthBlocked);
    // Choice: the card does not check the format; anything but the PIN spends a try.
    verified(pin) = false;
    if (!store_.checkPin(pin, secretOf(c.data))) return status(verifyFailed(store_.triesLeft(pin)));
    verified(pin) = true;
    return status(kSwOk);
}

// CHANGE REFERENCE DATA 00 24 01 80 Lc <new PIN>, on the selected PIN EF, once verified.
Bytes JpkiCard::changeReferenceData(const Command& c)
{
    if (c.p1 != kChangeNewValueOnly || c.p2 != kPinOfCurrentEf) return status(kSwWrongP1P2);
    if (!c.hasData() || c.le) return status(kSwWrongLength);
    if (!currentEf_) return status(kSwNoCurrentEf);
    if (currentEf_->kind != EfKind::Pin) return status(kSwIncompatibleFile);
    const KeyPair pin = currentEf_->pair;
    if (store_.triesLeft(pin) == 0) return status(kSwAuthBlocked);
    if (!verified(pin)) return status(kSwSecurityNotSatisfied);
    if (!isValidPin(pin, c.data)) return status(kSwWrongData);
    store_.setPin(pin, secretOf(c.data));
    // Choice: the PIN stays verified with its new value.
    return status(kSwOk);
}

// COMPUTE DIGITAL SIGNATURE 80 2A 00 80 Lc <DigestInfo> 00, on the selected key EF:
// the card adds PKCS#1 v1.5 type-1 padding and answers the 256-byte signature.
Bytes JpkiCard::computeDigitalSignature(const Command& c)
{
    if (c.cla != kClaProprietary) return status(kSwClaNotSupported);
    if (c.p1 != kSignatureP1 || c.p2 != kSignatureP2) return status(kSwWrongP1P2);
    if (!c.hasData()) return status(kSwWrongLength);
    if (!currentEf_) return status(kSwNoCurrentEf);
    if (currentEf_->kind != EfKind::Key) return status(kSwIncompatibleFile);
    const KeyPair key = currentEf_->pair;
    if (!verified(key)) return status(kSwSecurityNotSatisfied);
    if (!isSha2DigestInfo(c.data)) return status(kSwWrongData);

    if (options_.signatureLatency.count() > 0) std::this_thread::sleep_for(options_.signatureLatency);
    Bytes signature = store_.sign(key, c.data);
    // Le 00 (256) takes it at once; a smaller or absent Le leaves the rest to GET RESPONSE.
    if (!c.le) return pending_.offer(std::move(signature));
    return pending_.answerWithin(std::move(signature), *c.le);
}

}  // namespace inkan::vcard::jpki
