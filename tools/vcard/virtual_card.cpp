// inkan-vcard — the reference card's command set.
//
// Every byte below is from docs/reference-card.md (cited by section) or, where
// that page defers to it, ISO/IEC 7816-4. Where the page leaves a choice open
// the choice is written next to the code that makes it.
#include "tools/vcard/virtual_card.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <thread>
#include <utility>

namespace inkan::vcard {

namespace {

using namespace apdu;  // status words, Command, GET RESPONSE

// ---- "ATR" -------------------------------------------------------------------
// TS=3B direct convention, T0=88 (TD1 present, 8 historical bytes), TD1=80 (T=0,
// TD2 present), TD2=01 (T=1), historical bytes "INKANVC1", TCK=6E.
constexpr std::array<std::uint8_t, 13> kAtr{0x3B, 0x88, 0x80, 0x01, 0x49, 0x4E, 0x4B,
                                             0x41, 0x4E, 0x56, 0x43, 0x31, 0x6E};

// ---- "Application" -------------------------------------------------------------
// F0 = proprietary, unregistered RID; then "INKAN", version 1.
constexpr std::array<std::uint8_t, 7> kAid{0xF0, 0x49, 0x4E, 0x4B, 0x41, 0x4E, 0x01};
constexpr std::uint16_t kFidSigningCertificate = 0xC001;
constexpr std::uint16_t kFidCaCertificate = 0xC002;
constexpr std::uint16_t kFidCardSerial = 0xD001;
constexpr std::size_t kFidLength = 2;

// ---- Class and instructions (ISO 7816-4 §5.1, §11) ------------------------------
constexpr std::uint8_t kClaInterindustry = 0x00;  // the only CLA the card accepts
constexpr std::uint8_t kInsSelect = 0xA4;
constexpr std::uint8_t kInsReadBinary = 0xB0;
constexpr std::uint8_t kInsVerify = 0x20;
constexpr std::uint8_t kInsChangeReferenceData = 0x24;
constexpr std::uint8_t kInsResetRetryCounter = 0x2C;
constexpr std::uint8_t kInsManageSecurityEnvironment = 0x22;
constexpr std::uint8_t kInsPerformSecurityOperation = 0x2A;
using apdu::kInsGetResponse;

// SELECT P1 (ISO 7816-4 §11.1.1): 04 = by DF name (AID), 02 = EF under the current DF.
constexpr std::uint8_t kSelectByDfName = 0x04;
constexpr std::uint8_t kSelectEfUnderCurrentDf = 0x02;
// SELECT P2: 0C = no response data; 00 = return the FCI (spec, "Application").
constexpr std::uint8_t kSelectNoResponseData = 0x0C;
constexpr std::uint8_t kSelectFirstWithFci = 0x00;
// The application's FCI: 6F { 84 AID, A5 { 81 max PIN tries, 82 max unblock-code tries } }.
constexpr std::uint8_t kFciTemplate = 0x6F;
constexpr std::uint8_t kFciDfName = 0x84;
constexpr std::uint8_t kFciProprietary = 0xA5;

// READ BINARY: P1 bit 8 set would mean a short EF identifier; the card has none (spec, "READ BINARY").
constexpr std::uint8_t kReadBinaryShortEfFlag = 0x80;

// VERIFY / CHANGE / RESET RETRY COUNTER (spec, "PINs").
constexpr std::uint8_t kP1None = 0x00;
constexpr std::size_t kPinBlockLength = 16;
constexpr std::uint8_t kPinPadding = 0xFF;
constexpr std::size_t kUserPinMinDigits = 4;
constexpr std::size_t kUserPinMaxDigits = 16;
constexpr std::size_t kUnblockCodeDigits = 8;

// MSE SET for digital signature (spec, "Signing"): P1 41 = SET for computation,
// P2 B6 = DST. Its data: 80 01 02 (algorithm: RSASSA-PKCS1-v1_5), 84 01 01 (key 01).
constexpr std::uint8_t kMseSetForComputation = 0x41;
constexpr std::uint8_t kMseDigitalSignatureTemplate = 0xB6;
constexpr std::uint8_t kCrtTagAlgorithm = 0x80;
constexpr std::uint8_t kCrtTagKeyReference = 0x84;
constexpr std::uint8_t kAlgorithmRsaPkcs1v15 = 0x02;
constexpr std::uint8_t kKeySigning = 0x01;

// PSO COMPUTE DIGITAL SIGNATURE: P1 9E = digital signature out, P2 9A = data to be signed in.
constexpr std::uint8_t kPsoSignatureOut = 0x9E;
constexpr std::uint8_t kPsoDataToBeSigned = 0x9A;

/// A PIN block: the ASCII digits, then FF up to 16 bytes (spec, "PINs").
/// nullopt when the block is malformed or the digit count is outside [minDigits, maxDigits].
std::optional<Secret> parsePinBlock(ByteView block, std::size_t minDigits, std::size_t maxDigits)
{
    if (block.size() != kPinBlockLength) return std::nullopt;
    std::size_t digits = 0;
    while (digits < block.size() && block[digits] >= '0' && block[digits] <= '9') ++digits;
    if (!std::all_of(block.begin() + static_cast<std::ptrdiff_t>(digits), block.end(),
                     [](std::uint8_t b) { return b == kPinPadding; }))
        return std::nullopt;
    if (digits < minDigits || digits > maxDigits) return std::nullopt;
    return Secret(std::string_view(reinterpret_cast<const char*>(block.data()), digits));
}

std::optional<Secret> parseUserPinBlock(ByteView block)
{
    return parsePinBlock(block, kUserPinMinDigits, kUserPinMaxDigits);
}

std::optional<Secret> parseUnblockCodeBlock(ByteView block)
{
    return parsePinBlock(block, kUnblockCodeDigits, kUnblockCodeDigits);
}

/// The DST the card supports, in either order: 80 01 02 and 84 01 01, nothing else.
bool isSupportedSignatureTemplate(ByteView data)
{
    bool algorithm = false;
    bool key = false;
    std::size_t i = 0;
    while (i < data.size()) {
        if (data.size() - i < 2) return false;
        const std::uint8_t tag = data[i];
        const std::uint8_t len = data[i + 1];
        if (len != 1 || data.size() - i - 2 < len) return false;
        const std::uint8_t value = data[i + 2];
        if (tag == kCrtTagAlgorithm && !algorithm && value == kAlgorithmRsaPkcs1v15) {
            algorithm = true;
        } else if (tag == kCrtTagKeyReference && !key && value == kKeySigning) {
            key = true;
        } else {
            return false;  // unknown tag, unknown value, or a repeated tag
        }
        i += 2 + len;
    }
    return algorithm && key;
}

}  // namespace

VirtualCard::VirtualCard(CardStore& store, CardOptions options)
    : store_(store), options_(options), serialFile_(store.serial().begin(), store.serial().end())
{
}

ByteView VirtualCard::atr() noexcept
{
    return kAtr;
}

ByteView VirtualCard::answerToReset() const noexcept
{
    return atr();
}

void VirtualCard::endSession() noexcept
{
    applicationSelected_ = false;
    currentFile_ = nullptr;
    signatureEnvironmentSet_ = false;
    userPinVerified_ = false;
    pending_.clear();
}

Bytes VirtualCard::transmit(ByteView apdu)
{
    // A response waiting for GET RESPONSE is only offered to the very next command.
    pending_.forgetUnlessGetResponse(apdu);
    try {
        if (apdu.size() < kHeaderLength) return status(kSwWrongLength);
        if (apdu[0] != kClaInterindustry) return status(kSwClaNotSupported);
        const auto command = Command::parse(apdu);
        switch (apdu[1]) {
        case kInsSelect:
        case kInsReadBinary:
        case kInsVerify:
        case kInsChangeReferenceData:
        case kInsResetRetryCounter:
        case kInsManageSecurityEnvironment:
        case kInsPerformSecurityOperation:
        case kInsGetResponse:
            break;
        default:
            return status(kSwInsNotSupported);
        }
        if (apdu[1] == kInsPerformSecurityOperation) {
            // "A successful VERIFY authorises one signature": every PSO spends the
            // verification, whatever its outcome (choice: also when it fails).
            const bool pinWasVerified = std::exchange(userPinVerified_, false);
            if (!command) return status(kSwWrongLength);
            return computeDigitalSignature(*command, pinWasVerified);
        }
        if (!command) return status(kSwWrongLength);
        return dispatch(*command);
    } catch (const StoreError&) {
        // A PIN counter could not be written: refuse, and never leave the PIN verified.
        userPinVerified_ = false;
        return status(kSwMemoryFailure);
    } catch (const std::exception&) {
        userPinVerified_ = false;
        return status(kSwNoPreciseDiagnosis);
    }
}

Bytes VirtualCard::dispatch(const Command& c)
{
    switch (c.ins) {
    case kInsSelect: return select(c);
    case kInsReadBinary: return readBinary(c);
    case kInsVerify: return verify(c);
    case kInsChangeReferenceData: return changeReferenceData(c);
    case kInsResetRetryCounter: return resetRetryCounter(c);
    case kInsManageSecurityEnvironment: return manageSecurityEnvironment(c);
    case kInsGetResponse: return getResponse(c);
    default: return status(kSwInsNotSupported);
    }
}

Bytes VirtualCard::applicationFci() const
{
    const Bytes proprietary{static_cast<std::uint8_t>(PinReference::User), 0x01,
                            static_cast<std::uint8_t>(store_.maxTries(PinReference::User)),
                            static_cast<std::uint8_t>(PinReference::Unblock), 0x01,
                            static_cast<std::uint8_t>(store_.maxTries(PinReference::Unblock))};
    Bytes body{kFciDfName, static_cast<std::uint8_t>(kAid.size())};
    body.insert(body.end(), kAid.begin(), kAid.end());
    body.push_back(kFciProprietary);
    body.push_back(static_cast<std::uint8_t>(proprietary.size()));
    body.insert(body.end(), proprietary.begin(), proprietary.end());
    body.insert(body.begin(), {kFciTemplate, static_cast<std::uint8_t>(body.size())});
    return body;
}

const Bytes* VirtualCard::fileById(std::uint16_t fid) const noexcept
{
    switch (fid) {
    case kFidSigningCertificate: return &store_.signingCertificate();
    case kFidCaCertificate: return store_.caCertificate() ? &*store_.caCertificate() : nullptr;
    case kFidCardSerial: return &serialFile_;
    default: return nullptr;
    }
}

// Spec "Application": SELECT application / SELECT EF.
Bytes VirtualCard::select(const Command& c)
{
    if (c.p2 != kSelectNoResponseData && c.p2 != kSelectFirstWithFci) return status(kSwWrongP1P2);
    if (c.p1 == kSelectByDfName) {
        if (!c.hasData()) return status(kSwWrongLength);
        if (!std::equal(c.data.begin(), c.data.end(), kAid.begin(), kAid.end())) return status(kSwFileNotFound);
        // Choice: the FCI is returned for P2 00 with an Le; without Le (or with
        // P2 0C) the answer has no data. An Le too short for it is 6Cxx.
        const Bytes fci = c.p2 == kSelectFirstWithFci && c.le ? applicationFci() : Bytes{};
        if (fci.size() > c.le.value_or(0)) return status(withCount(kSwWrongLe, fci.size()));
        // A (re)selected application starts from its default security environment
        // (ISO 7816-4 §5.3.4) and with no EF; the PIN state is kept.
        applicationSelected_ = true;
        currentFile_ = nullptr;
        signatureEnvironmentSet_ = false;
        return dataAndStatus(fci, kSwOk);
    }
    if (c.p1 == kSelectEfUnderCurrentDf) {
        if (c.data.size() != kFidLength) return status(kSwWrongLength);
        if (!applicationSelected_) return status(kSwConditionsNotSatisfied);
        const auto fid = static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]);
        const Bytes* file = fileById(fid);
        if (file == nullptr) return status(kSwFileNotFound);  // current EF unchanged
        currentFile_ = file;
        return status(kSwOk);
    }
    return status(kSwWrongP1P2);
}

// Spec "READ BINARY".
Bytes VirtualCard::readBinary(const Command& c)
{
    if (c.p1 & kReadBinaryShortEfFlag) return status(kSwWrongP1P2);
    if (c.hasData() || !c.le) return status(kSwWrongLength);
    if (currentFile_ == nullptr) return status(kSwNoCurrentEf);
    const std::size_t offset = static_cast<std::size_t>(c.p1) << 8 | c.p2;
    const Bytes& file = *currentFile_;
    if (offset >= file.size()) return status(kSwWrongOffset);
    const std::size_t left = file.size() - offset;
    if (*c.le > left) return status(withCount(kSwWrongLe, left));
    return dataAndStatus(ByteView(file).subspan(offset, *c.le), kSwOk);
}

// Spec "PINs": VERIFY, with and without data.
Bytes VirtualCard::verify(const Command& c)
{
    if (c.p1 != kP1None) return status(kSwWrongP1P2);
    if (c.p2 != static_cast<std::uint8_t>(PinReference::User) && c.p2 != static_cast<std::uint8_t>(PinReference::Unblock))
        return status(kSwWrongP1P2);
    const auto ref = static_cast<PinReference>(c.p2);

    // Status query: no data field. A case-2 form with P3 = 00 (as T=0 readers send
    // a case-1 command) is read the same way; it spends no try.
    if (!c.hasData()) {
        if (c.le && *c.le != kShortLeMax) return status(kSwWrongLength);
        if (store_.triesLeft(ref) == 0) return status(kSwAuthBlocked);
        if (ref == PinReference::User && userPinVerified_) return status(kSwOk);
        return status(verifyFailed(store_.triesLeft(ref)));
    }

    // Choice: the unblock code is presented only inside RESET RETRY COUNTER;
    // VERIFY with data is for the user PIN.
    if (ref != PinReference::User) return status(kSwWrongP1P2);
    if (c.le || c.data.size() != kPinBlockLength) return status(kSwWrongLength);
    const auto pin = parseUserPinBlock(c.data);
    if (!pin) return status(kSwWrongData);  // no try spent
    if (store_.triesLeft(ref) == 0) return status(kSwAuthBlocked);

    userPinVerified_ = false;
    if (!store_.checkPin(ref, *pin)) return status(verifyFailed(store_.triesLeft(ref)));
    userPinVerified_ = true;
    return status(kSwOk);
}

// Spec "PINs": CHANGE REFERENCE DATA, old block || new block.
Bytes VirtualCard::changeReferenceData(const Command& c)
{
    if (c.p1 != kP1None || c.p2 != static_cast<std::uint8_t>(PinReference::User)) return status(kSwWrongP1P2);
    if (c.le || c.data.size() != 2 * kPinBlockLength) return status(kSwWrongLength);
    const auto oldPin = parseUserPinBlock(c.data.first(kPinBlockLength));
    const auto newPin = parseUserPinBlock(c.data.subspan(kPinBlockLength));
    if (!oldPin || !newPin) return status(kSwWrongData);
    if (store_.triesLeft(PinReference::User) == 0) return status(kSwAuthBlocked);

    // Choice: a change never leaves the PIN verified; the next signature needs a VERIFY.
    userPinVerified_ = false;
    if (!store_.checkPin(PinReference::User, *oldPin))
        return status(verifyFailed(store_.triesLeft(PinReference::User)));
    store_.setPin(PinReference::User, *newPin);
    return status(kSwOk);
}

// Spec "PINs": RESET RETRY COUNTER, unblock-code block || new PIN block.
Bytes VirtualCard::resetRetryCounter(const Command& c)
{
    if (c.p1 != kP1None || c.p2 != static_cast<std::uint8_t>(PinReference::User)) return status(kSwWrongP1P2);
    if (c.le || c.data.size() != 2 * kPinBlockLength) return status(kSwWrongLength);
    const auto unblockCode = parseUnblockCodeBlock(c.data.first(kPinBlockLength));
    const auto newPin = parseUserPinBlock(c.data.subspan(kPinBlockLength));
    if (!unblockCode || !newPin) return status(kSwWrongData);
    if (store_.triesLeft(PinReference::Unblock) == 0) return status(kSwAuthBlocked);

    userPinVerified_ = false;
    if (!store_.checkPin(PinReference::Unblock, *unblockCode))
        return status(verifyFailed(store_.triesLeft(PinReference::Unblock)));
    store_.setPin(PinReference::User, *newPin);
    return status(kSwOk);
}

// Spec "Signing": MSE SET (DST).
Bytes VirtualCard::manageSecurityEnvironment(const Command& c)
{
    if (c.p1 != kMseSetForComputation || c.p2 != kMseDigitalSignatureTemplate) return status(kSwWrongP1P2);
    if (!c.hasData() || c.le) return status(kSwWrongLength);
    // A rejected SET leaves no environment behind: the next PSO answers 6985.
    signatureEnvironmentSet_ = isSupportedSignatureTemplate(c.data);
    return status(signatureEnvironmentSet_ ? kSwOk : kSwWrongData);
}

// Spec "Signing": PSO COMPUTE DIGITAL SIGNATURE. The caller has already spent the verification.
Bytes VirtualCard::computeDigitalSignature(const Command& c, bool pinWasVerified)
{
    if (c.p1 != kPsoSignatureOut || c.p2 != kPsoDataToBeSigned) return status(kSwWrongP1P2);
    if (!c.hasData()) return status(kSwWrongLength);
    if (!pinWasVerified) return status(kSwSecurityNotSatisfied);
    if (!signatureEnvironmentSet_) return status(kSwConditionsNotSatisfied);
    if (!isSha2DigestInfo(c.data)) return status(kSwWrongData);

    if (options_.signatureLatency.count() > 0) std::this_thread::sleep_for(options_.signatureLatency);
    return pending_.offer(store_.sign(c.data));
}

// Spec "Signing": GET RESPONSE (shared ISO 7816-4 §7.6.1 behaviour).
Bytes VirtualCard::getResponse(const Command& c)
{
    return pending_.getResponse(c);
}

}  // namespace inkan::vcard
