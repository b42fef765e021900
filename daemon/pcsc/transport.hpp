// inkan — how APDUs reach a card, as seen from above the PC/SC layer.
//
// The card profiles and the card service only know these interfaces; the real
// implementation is CardConnection (card_connection.hpp), tests substitute
// fakes that replay scripted APDU pairs.
#pragma once

#include <memory>

#include "daemon/error.hpp"
#include "daemon/pcsc/bytes.hpp"

namespace inkan::pcsc {

/// Sends one raw C-APDU and returns the raw R-APDU (data + SW1 SW2).
/// Errors are inkan::Error (CardRemoved, PcscUnavailable, ...).
class ApduTransport {
public:
    virtual ~ApduTransport() = default;
    virtual Bytes transmit(ByteView command) = 0;

    /// The reader's PIN pad (PC/SC part 10, pinpad.hpp): the reader asks the
    /// user for the PIN on its keypad, puts it into the command template of
    /// PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE and sends it; the PIN never
    /// reaches the computer. Returns the R-APDU: the card's answer, or the
    /// reader's own 64xx (timeout, cancelled, ...). Throws PinpadUnavailable
    /// when the reader has no PIN pad for this, the default.
    virtual Bytes verifyPinDirect(ByteView pinVerifyStructure)
    {
        (void)pinVerifyStructure;
        throw Error(ErrorCode::PinpadUnavailable, "the reader holding this card has no PIN pad");
    }
    virtual Bytes modifyPinDirect(ByteView pinModifyStructure)
    {
        (void)pinModifyStructure;
        throw Error(ErrorCode::PinpadUnavailable, "the reader holding this card cannot change PINs on its PIN pad");
    }
};

/// Exclusive use of a card for one operation (SCardBeginTransaction ...
/// SCardEndTransaction). Ends when destroyed. Card work happens only inside one,
/// so no other application can interleave APDUs between a VERIFY and the
/// signature it authorises.
class CardTransaction : public ApduTransport {
public:
    /// Reset the card instead of leaving it as it is when the transaction ends:
    /// throws away any security state (a verified PIN) the operation left behind.
    virtual void resetCardOnEnd() noexcept = 0;
};

/// A connection to the card in one reader.
class CardHandle {
public:
    virtual ~CardHandle() = default;
    virtual std::unique_ptr<CardTransaction> beginTransaction() = 0;
    /// Whether the reader holding the card has a PIN pad (PC/SC part 10
    /// FEATURE_VERIFY_PIN_DIRECT, pinpad.hpp). Never throws; false when unknown.
    virtual bool readerHasPinpad() noexcept { return false; }
};

}  // namespace inkan::pcsc
