// inkan-vcard — what the vpcd link needs from a card: its ATR, the reader's
// power events, and one response APDU per command APDU. The reference card
// (virtual_card.hpp) and the JPKI card (jpki_card.hpp) are the two implementations.
#pragma once

#include "tools/vcard/bytes.hpp"

namespace inkan::vcard {

class EmulatedCard {
public:
    virtual ~EmulatedCard() = default;

    /// The card's answer to reset, sent when vpcd asks for it.
    virtual ByteView answerToReset() const noexcept = 0;

    /// Power events; each one ends the card's session (selection, verified PINs, pending response).
    virtual void powerOn() noexcept = 0;
    virtual void powerOff() noexcept = 0;
    virtual void reset() noexcept = 0;

    /// Processes one command APDU and returns the response APDU (data + SW1 SW2).
    /// Never throws: failures become status words.
    virtual Bytes transmit(ByteView command) = 0;

protected:
    EmulatedCard() = default;
    EmulatedCard(const EmulatedCard&) = default;
    EmulatedCard& operator=(const EmulatedCard&) = default;
};

}  // namespace inkan::vcard
