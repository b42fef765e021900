// inkan-vpinpad — a virtual smart-card reader WITH A PIN PAD, as a pcsc-lite
// IFD handler (reader driver) loaded by the real pcscd.
//
// Why it exists: inkand can take a PIN from the reader's own keypad (PC/SC
// part 10 FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT), so the PIN
// never passes through the computer. vsmartcard's vpcd — the virtual reader
// the tests use — has no keypad, so that path could only be tested with a
// physical reader. This driver is vpcd's slot plus a keypad:
//
//   inkand → SCardControl → pcscd → libinkan-vpinpad.so → inkan-vcard
//                                        ↑ keypad = a text file the test writes
//
// Card side: the reader listens on 127.0.0.1:PORT and speaks vpcd's protocol
// (card_socket.hpp), so `inkan-vcard --port PORT` is the card: connecting
// inserts it, closing (or SIGUSR1 to inkan-vcard) removes it.
//
// Configuration: a reader.conf entry; DEVICENAME is "PORT:KEYPAD_FILE"
// (device_name.hpp), e.g. tools/vpinpad/inkan-vpinpad.conf:
//   FRIENDLYNAME "Inkan Virtual PinPad"
//   DEVICENAME   35970:/tmp/inkan-vpinpad/keypad
//   LIBPATH      /path/to/build/lib/libinkan-vpinpad.so
//   CHANNELID    0
// and `pcscd --foreground -c DIR` with that file in DIR.
//
// Keypad (keypad.hpp): when a PIN entry starts, the reader waits up to
// bTimerOut seconds (0 → 30 s), looking at KEYPAD_FILE every 50 ms, for a
// complete "\n"-terminated line. It takes the first line and rewrites the
// file without it. A line is the characters typed then OK; "CANCEL" is the
// Cancel key; "TIMEOUT" is nobody typing. pcscd's stderr gets
// "inkan-vpinpad: waiting ..." when an entry starts (never the PIN).
//
// Control codes (SCardControl):
//   CM_IOCTL_GET_FEATURE_REQUEST  → TLVs 06 VERIFY_PIN_DIRECT, 07 MODIFY_PIN_DIRECT,
//                                   0A IFD_PIN_PROPERTIES (codes 0x42330006/7/A)
//   VERIFY_PIN_DIRECT (PIN_VERIFY_STRUCTURE): one entry, put into the APDU
//                                   template, sent to the card; output = its R-APDU.
//   MODIFY_PIN_DIRECT (PIN_MODIFY_STRUCTURE): current PIN (bConfirmPIN bit 1),
//                                   new PIN, new PIN again (bit 0), then the card.
//   The reader's own answers: 64 00 timeout, 64 01 cancelled, 64 02 the two new
//   PINs differ, 64 03 PIN length (or non-digit for BCD/binary) — the card is not
//   contacted then. A malformed structure fails the call (SCARD_E_NOT_TRANSACTED);
//   any other code is IFD_ERROR_NOT_SUPPORTED (SCARD_E_UNSUPPORTED_FEATURE).
//   A card removed while the reader waits fails the call with IFD_ICC_NOT_PRESENT.
//
// Manual run (from the source tree, build dir `build`):
//   mkdir -p /tmp/pp/conf /tmp/inkan-vpinpad
//   sed "s|@LIBPATH@|$PWD/build/lib/libinkan-vpinpad.so|" tools/vpinpad/inkan-vpinpad.conf > /tmp/pp/conf/vpinpad
//   pcscd --foreground -c /tmp/pp/conf &
//   build/bin/inkan-vcard --state /tmp/pp/card --port 35970 &
//   echo 1234 >> /tmp/inkan-vpinpad/keypad      # the user types 1234, then OK
//
// Exports only the IFDH* entry points (v3 API, ifdhandler.h); everything else
// is hidden. pcscd calls one function at a time (TAG_IFD_THREAD_SAFE = 0); a
// mutex keeps that true whatever pcscd does.
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

#pragma GCC visibility push(default)
extern "C" {
#include <ifdhandler.h>
}
#pragma GCC visibility pop

// reader.h's structures end in zero-length arrays (a GNU extension in C++);
// it is included only to check our constants against pcsc-lite's.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <reader.h>
#pragma GCC diagnostic pop

#include "tools/vpinpad/card_socket.hpp"
#include "tools/vpinpad/device_name.hpp"
#include "tools/vpinpad/keypad.hpp"
#include "tools/vpinpad/part10.hpp"
#include "tools/vpinpad/wiped.hpp"

namespace {

using namespace inkan::vpinpad;
namespace p10 = inkan::vpinpad::part10;
namespace vpcd = inkan::vpcd;

static_assert(p10::kGetFeatureRequest == CM_IOCTL_GET_FEATURE_REQUEST);
static_assert(p10::kFeatureVerifyPinDirect == FEATURE_VERIFY_PIN_DIRECT);
static_assert(p10::kFeatureModifyPinDirect == FEATURE_MODIFY_PIN_DIRECT);
static_assert(p10::kFeatureIfdPinProperties == FEATURE_IFD_PIN_PROPERTIES);
static_assert(p10::kControlVerifyPinDirect == SCARD_CTL_CODE(0x330000 + FEATURE_VERIFY_PIN_DIRECT));
static_assert(p10::kVerifyHeaderLength == offsetof(PIN_VERIFY_STRUCTURE, abData));
static_assert(p10::kModifyHeaderLength == offsetof(PIN_MODIFY_STRUCTURE, abData));
static_assert(sizeof(PIN_PROPERTIES_STRUCTURE) == 4);

// Capability answers (ifdhandler.h, IFDHGetCapabilities).
constexpr UCHAR kSlotsPerReader = 1;         // TAG_IFD_SLOTS_NUMBER
constexpr UCHAR kReadersPerDriver = 1;       // TAG_IFD_SIMULTANEOUS_ACCESS
constexpr UCHAR kDriverThreadSafe = 0;       // TAG_IFD_THREAD_SAFE: pcscd serialises calls
constexpr UCHAR kSlotsThreadSafe = 0;        // TAG_IFD_SLOT_THREAD_SAFE

constexpr const char* kLogPrefix = "inkan-vpinpad: ";

void logf(const char* format, ...) __attribute__((format(printf, 1, 2)));
void logf(const char* format, ...)
{
    std::fputs(kLogPrefix, stderr);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

/// One configured reader (one reader.conf entry).
struct Reader {
    explicit Reader(const ReaderConfig& config) : slot(config.cardPort), keypad(config.keypadFile), port(config.cardPort) {}

    CardSocket slot;
    Keypad keypad;
    std::uint16_t port;
    Bytes atr;  // from the last power-up; empty when off or out
    bool cardWasPresent = false;
};

std::mutex gMutex;
std::map<DWORD, std::unique_ptr<Reader>> gReaders;

Reader* readerAt(DWORD lun)
{
    const auto found = gReaders.find(lun);
    return found == gReaders.end() ? nullptr : found->second.get();
}

/// No card in the slot when a PIN entry starts or while it waits.
struct NoCard {};

/// The outcome of a PIN-pad operation: the R-APDU to hand back (the card's,
/// or the reader's own 64 xx).
Bytes readerStatus(std::uint8_t sw2)
{
    return Bytes{p10::kSw1PinEntry, sw2};
}

const char* keyName(KeyPress key)
{
    switch (key) {
    case KeyPress::Entered: return "OK";
    case KeyPress::Cancelled: return "Cancel";
    case KeyPress::TimedOut: return "timeout";
    }
    return "?";
}

/// Waits for one keypad entry; throws NoCard when the card leaves meanwhile.
KeypadEntry awaitEntry(Reader& reader, unsigned timeoutSeconds, const char* what)
{
    logf("waiting up to %u s for the %s on the keypad (%s)", timeoutSeconds, what, reader.keypad.path().c_str());
    std::optional<KeypadEntry> entry = reader.keypad.waitForEntry(std::chrono::seconds(timeoutSeconds),
                                                                  [&reader] { return reader.slot.cardPresent(); });
    if (!entry) {
        logf("card removed during PIN entry");
        throw NoCard{};
    }
    logf("keypad: %s", keyName(entry->key));
    return std::move(*entry);
}

std::uint8_t swOf(KeyPress key)
{
    return key == KeyPress::Cancelled ? p10::kSw2Cancelled : p10::kSw2Timeout;
}

Bytes sendToCard(Reader& reader, const WipedBytes& apdu)
{
    Bytes answer = reader.slot.exchange(apdu.view());
    if (answer.size() >= 2) logf("card answered %02X%02X", answer[answer.size() - 2], answer.back());
    return answer;
}

Bytes verifyPinDirect(Reader& reader, ByteView structure)
{
    const p10::VerifyRequest request = p10::parseVerifyStructure(structure);
    if (!reader.slot.cardPresent()) throw NoCard{};
    const KeypadEntry pin = awaitEntry(reader, request.timeoutSeconds, "PIN");
    if (pin.key != KeyPress::Entered) return readerStatus(swOf(pin.key));

    WipedBytes apdu(request.apduTemplate);
    if (!p10::insertPin(apdu.span(), request.format, 0, pin.typed.view())) {
        logf("PIN length or characters not acceptable: 64 03, card not contacted");
        return readerStatus(p10::kSw2InvalidLength);
    }
    return sendToCard(reader, apdu);
}

Bytes modifyPinDirect(Reader& reader, ByteView structure)
{
    const p10::ModifyRequest request = p10::parseModifyStructure(structure);
    if (!reader.slot.cardPresent()) throw NoCard{};
    WipedBytes apdu(request.apduTemplate);

    // A reader checks each entry when OK is pressed and stops at the first
    // unacceptable one; so does this one (the remaining lines stay queued).
    if (request.asksCurrentPin) {
        const KeypadEntry current = awaitEntry(reader, request.timeoutSeconds, "current PIN");
        if (current.key != KeyPress::Entered) return readerStatus(swOf(current.key));
        if (!p10::insertPin(apdu.span(), request.format, request.currentPinOffset, current.typed.view())) {
            logf("current PIN length or characters not acceptable: 64 03, card not contacted");
            return readerStatus(p10::kSw2InvalidLength);
        }
    }
    const KeypadEntry fresh = awaitEntry(reader, request.timeoutSeconds, "new PIN");
    if (fresh.key != KeyPress::Entered) return readerStatus(swOf(fresh.key));
    if (!p10::insertPin(apdu.span(), request.format, request.newPinOffset, fresh.typed.view())) {
        logf("new PIN length or characters not acceptable: 64 03, card not contacted");
        return readerStatus(p10::kSw2InvalidLength);
    }
    if (request.asksConfirmation) {
        const KeypadEntry again = awaitEntry(reader, request.timeoutSeconds, "new PIN again");
        if (again.key != KeyPress::Entered) return readerStatus(swOf(again.key));
        if (again.typed.view() != fresh.typed.view()) {
            logf("the new PIN and its confirmation differ: 64 02, card not contacted");
            return readerStatus(p10::kSw2Mismatch);
        }
    }
    return sendToCard(reader, apdu);
}

RESPONSECODE copyOut(const Bytes& data, PUCHAR out, DWORD capacity, LPDWORD returned)
{
    if (data.size() > capacity) return IFD_ERROR_INSUFFICIENT_BUFFER;
    if (!data.empty()) std::memcpy(out, data.data(), data.size());
    *returned = static_cast<DWORD>(data.size());
    return IFD_SUCCESS;
}

RESPONSECODE powerUp(Reader& reader, std::uint8_t how, PUCHAR atr, PDWORD atrLength)
{
    if (!reader.slot.cardPresent()) return IFD_ERROR_POWER_ACTION;
    // vpcd's order: power on (or reset), then ask for the ATR.
    reader.slot.sendControl(how);
    const std::uint8_t getAtr[] = {vpcd::kControlGetAtr};
    Bytes answer = reader.slot.exchange(getAtr);
    if (answer.empty() || answer.size() > MAX_ATR_SIZE) {
        logf("the card sent an ATR of %zu bytes", answer.size());
        return IFD_ERROR_POWER_ACTION;
    }
    reader.atr = std::move(answer);
    std::memcpy(atr, reader.atr.data(), reader.atr.size());
    *atrLength = static_cast<DWORD>(reader.atr.size());
    return IFD_SUCCESS;
}

/// Every entry point: the lock, the reader, and no exception into pcscd (C).
template <class Body>
RESPONSECODE guarded(const char* where, DWORD lun, RESPONSECODE onError, Body&& body)
{
    const std::lock_guard lock(gMutex);
    Reader* reader = readerAt(lun);
    if (reader == nullptr) {
        logf("%s: no channel open for Lun 0x%lX", where, static_cast<unsigned long>(lun));
        return IFD_NO_SUCH_DEVICE;
    }
    try {
        return body(*reader);
    } catch (const NoCard&) {
        return IFD_ICC_NOT_PRESENT;
    } catch (const CardLost& e) {
        logf("%s: card lost: %s", where, e.what());
        return IFD_COMMUNICATION_ERROR;
    } catch (const std::exception& e) {
        logf("%s: %s", where, e.what());
        return onError;
    } catch (...) {
        logf("%s: unexpected failure", where);
        return onError;
    }
}

}  // namespace

RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
    const std::lock_guard lock(gMutex);
    try {
        const std::optional<ReaderConfig> config = parseDeviceName(DeviceName == nullptr ? "" : DeviceName);
        if (!config) {
            logf("DEVICENAME must be PORT:/absolute/keypad/file, got \"%s\"", DeviceName == nullptr ? "" : DeviceName);
            return IFD_COMMUNICATION_ERROR;
        }
        if (readerAt(Lun) != nullptr) return IFD_COMMUNICATION_ERROR;
        gReaders[Lun] = std::make_unique<Reader>(*config);
        logf("reader ready: card slot 127.0.0.1:%u, keypad %s", static_cast<unsigned>(config->cardPort),
             config->keypadFile.c_str());
        return IFD_SUCCESS;
    } catch (const std::exception& e) {
        logf("cannot open the reader: %s", e.what());
        return IFD_COMMUNICATION_ERROR;
    }
}

RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
    // Without DEVICENAME there is neither a port nor a keypad file.
    logf("needs a reader.conf DEVICENAME PORT:KEYPAD_FILE (Lun 0x%lX, channel %lu)", static_cast<unsigned long>(Lun),
         static_cast<unsigned long>(Channel));
    return IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
    const std::lock_guard lock(gMutex);
    const auto found = gReaders.find(Lun);
    if (found == gReaders.end()) return IFD_NO_SUCH_DEVICE;
    try {
        if (found->second->slot.cardPresent()) found->second->slot.sendControl(vpcd::kControlPowerOff);
    } catch (const std::exception&) {
        // Closing anyway.
    }
    gReaders.erase(found);
    return IFD_SUCCESS;
}

RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
    return guarded("IFDHGetCapabilities", Lun, IFD_COMMUNICATION_ERROR, [&](Reader& reader) -> RESPONSECODE {
        const auto oneByte = [&](UCHAR value) -> RESPONSECODE {
            if (*Length < 1) return IFD_ERROR_INSUFFICIENT_BUFFER;
            Value[0] = value;
            *Length = 1;
            return IFD_SUCCESS;
        };
        switch (Tag) {
        case TAG_IFD_ATR:
        case SCARD_ATTR_ATR_STRING:
            if (*Length < reader.atr.size()) return IFD_ERROR_INSUFFICIENT_BUFFER;
            if (!reader.atr.empty()) std::memcpy(Value, reader.atr.data(), reader.atr.size());
            *Length = static_cast<DWORD>(reader.atr.size());
            return IFD_SUCCESS;
        case TAG_IFD_SLOTS_NUMBER: return oneByte(kSlotsPerReader);
        case TAG_IFD_SIMULTANEOUS_ACCESS: return oneByte(kReadersPerDriver);
        case TAG_IFD_THREAD_SAFE: return oneByte(kDriverThreadSafe);
        case TAG_IFD_SLOT_THREAD_SAFE: return oneByte(kSlotsThreadSafe);
        default: return IFD_ERROR_TAG;
        }
    });
}

RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD, DWORD, PUCHAR)
{
    return guarded("IFDHSetCapabilities", Lun, IFD_ERROR_SET_FAILURE, [](Reader&) -> RESPONSECODE {
        return IFD_ERROR_TAG;  // nothing is settable
    });
}

RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR, UCHAR, UCHAR, UCHAR)
{
    return guarded("IFDHSetProtocolParameters", Lun, IFD_COMMUNICATION_ERROR, [&](Reader&) -> RESPONSECODE {
        // The slot carries whole APDUs: T=0 and T=1 (both in the virtual
        // card's ATR) are the same thing here.
        if (Protocol == SCARD_PROTOCOL_T0 || Protocol == SCARD_PROTOCOL_T1) return IFD_SUCCESS;
        return IFD_PROTOCOL_NOT_SUPPORTED;
    });
}

RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
    *AtrLength = 0;
    return guarded("IFDHPowerICC", Lun, IFD_ERROR_POWER_ACTION, [&](Reader& reader) -> RESPONSECODE {
        switch (Action) {
        case IFD_POWER_UP: return powerUp(reader, vpcd::kControlPowerOn, Atr, AtrLength);
        case IFD_RESET: return powerUp(reader, vpcd::kControlReset, Atr, AtrLength);
        case IFD_POWER_DOWN:
            reader.atr.clear();
            if (reader.slot.cardPresent()) reader.slot.sendControl(vpcd::kControlPowerOff);
            return IFD_SUCCESS;
        default: return IFD_NOT_SUPPORTED;
        }
    });
}

RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
                               PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
    const DWORD capacity = *RxLength;
    *RxLength = 0;
    return guarded("IFDHTransmitToICC", Lun, IFD_COMMUNICATION_ERROR, [&](Reader& reader) -> RESPONSECODE {
        if (!reader.slot.cardPresent()) return IFD_ICC_NOT_PRESENT;
        const Bytes answer = reader.slot.exchange(ByteView(TxBuffer, TxLength));
        if (answer.size() > capacity) return IFD_ERROR_INSUFFICIENT_BUFFER;
        std::memcpy(RxBuffer, answer.data(), answer.size());
        *RxLength = static_cast<DWORD>(answer.size());
        if (RecvPci != nullptr) RecvPci->Protocol = SendPci.Protocol;
        return IFD_SUCCESS;
    });
}

RESPONSECODE IFDHICCPresence(DWORD Lun)
{
    return guarded("IFDHICCPresence", Lun, IFD_COMMUNICATION_ERROR, [](Reader& reader) -> RESPONSECODE {
        const bool present = reader.slot.cardPresent();
        if (present != reader.cardWasPresent) {
            logf("card %s (port %u)", present ? "inserted" : "removed", static_cast<unsigned>(reader.port));
            reader.cardWasPresent = present;
            if (!present) reader.atr.clear();
        }
        return present ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
    });
}

RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
                         DWORD RxLength, LPDWORD pdwBytesReturned)
{
    *pdwBytesReturned = 0;
    return guarded("IFDHControl", Lun, IFD_COMMUNICATION_ERROR, [&](Reader& reader) -> RESPONSECODE {
        const ByteView input(TxBuffer, TxBuffer == nullptr ? 0 : TxLength);
        switch (dwControlCode) {
        case p10::kGetFeatureRequest: return copyOut(p10::featureList(), RxBuffer, RxLength, pdwBytesReturned);
        case p10::kControlIfdPinProperties:
            return copyOut(p10::pinProperties(), RxBuffer, RxLength, pdwBytesReturned);
        case p10::kControlVerifyPinDirect:
            return copyOut(verifyPinDirect(reader, input), RxBuffer, RxLength, pdwBytesReturned);
        case p10::kControlModifyPinDirect:
            return copyOut(modifyPinDirect(reader, input), RxBuffer, RxLength, pdwBytesReturned);
        default: return IFD_ERROR_NOT_SUPPORTED;
        }
    });
}
