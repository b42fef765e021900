// inkan-vcard — the reference card (docs/reference-card.md) as a pure function
// of its inputs: command APDU in, response APDU out, plus the power events a
// reader delivers. No sockets, no threads; the persisted state is a CardStore.
#pragma once

#include <chrono>
#include <cstdint>

#include "tools/vcard/apdu.hpp"
#include "tools/vcard/bytes.hpp"
#include "tools/vcard/card_store.hpp"
#include "tools/vcard/emulated_card.hpp"

namespace inkan::vcard {

struct CardOptions {
    /// Time taken before answering a PSO COMPUTE DIGITAL SIGNATURE that signs,
    /// to behave like a real card's RSA engine.
    std::chrono::milliseconds signatureLatency{0};
};

class VirtualCard final : public EmulatedCard {
public:
    /// `store` must outlive the card.
    explicit VirtualCard(CardStore& store, CardOptions options = {});

    /// The reference card's ATR (spec, "ATR").
    static ByteView atr() noexcept;
    ByteView answerToReset() const noexcept override;

    /// Power events. Each one ends the session: no application or EF selected,
    /// no security environment, PIN not verified, pending response dropped
    /// (spec: "Power-off, reset and removal reset it too"). A removal is a power-off.
    void powerOn() noexcept override { endSession(); }
    void powerOff() noexcept override { endSession(); }
    void reset() noexcept override { endSession(); }

    /// Processes one command APDU and returns the response APDU (data + SW1 SW2).
    /// Never throws: failures become status words.
    Bytes transmit(ByteView command) override;

private:
    using Command = apdu::Command;

    void endSession() noexcept;
    Bytes dispatch(const Command& c);
    Bytes select(const Command& c);
    Bytes readBinary(const Command& c);
    Bytes verify(const Command& c);
    Bytes changeReferenceData(const Command& c);
    Bytes resetRetryCounter(const Command& c);
    Bytes manageSecurityEnvironment(const Command& c);
    Bytes computeDigitalSignature(const Command& c, bool pinWasVerified);
    Bytes getResponse(const Command& c);
    const Bytes* fileById(std::uint16_t fid) const noexcept;
    /// The application's FCI (spec, "Application"), with the PIN try maxima.
    Bytes applicationFci() const;

    CardStore& store_;
    CardOptions options_;
    Bytes serialFile_;  // EF D001 contents

    // Session state (volatile: lost on power-off, reset and removal).
    bool applicationSelected_ = false;
    const Bytes* currentFile_ = nullptr;
    bool signatureEnvironmentSet_ = false;
    bool userPinVerified_ = false;
    apdu::PendingResponse pending_;
};

}  // namespace inkan::vcard
