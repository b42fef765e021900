// inkan-vcard — the My Number card's public-key application (JPKI, 公的個人認証)
// as a pure function of its inputs: command APDU in, response APDU out, plus the
// reader's power events. docs/jpki.md is its specification: the facts, where
// they come from (OpenSC card-jpki.c / pkcs15-jpki.c / jpki.h), the EF map, and
// the choices made where no source speaks. The persisted state is a JpkiStore.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "tools/vcard/apdu.hpp"
#include "tools/vcard/bytes.hpp"
#include "tools/vcard/emulated_card.hpp"
#include "tools/vcard/jpki_store.hpp"

namespace inkan::vcard::jpki {

struct JpkiCardOptions {
    /// Time taken before answering a COMPUTE DIGITAL SIGNATURE that signs.
    std::chrono::milliseconds signatureLatency{0};
};

class JpkiCard final : public EmulatedCard {
public:
    /// `store` must outlive the card.
    explicit JpkiCard(JpkiStore& store, JpkiCardOptions options = {});

    /// 3B E0 00 FF 81 31 FE 45 14 (OpenSC card-jpki.c, jpki_atrs).
    static ByteView atr() noexcept;
    ByteView answerToReset() const noexcept override { return atr(); }

    /// Each ends the session: no AP or EF selected, no PIN verified, nothing pending.
    void powerOn() noexcept override { endSession(); }
    void powerOff() noexcept override { endSession(); }
    void reset() noexcept override { endSession(); }

    Bytes transmit(ByteView command) override;

    /// What an elementary file of the JPKI AP holds.
    enum class EfKind { Certificate, CaCertificate, TokenInfo, Key, Pin };
    struct Ef {
        std::uint16_t fid;
        EfKind kind;
        KeyPair pair;  // whose certificate, key or PIN (TokenInfo: unused)
    };

private:
    using Command = apdu::Command;

    void endSession() noexcept;
    Bytes dispatch(const Command& c);
    Bytes select(const Command& c);
    Bytes readBinary(const Command& c);
    Bytes verify(const Command& c);
    Bytes changeReferenceData(const Command& c);
    Bytes computeDigitalSignature(const Command& c);
    std::optional<ByteView> contents(const Ef& ef) const;
    bool& verified(KeyPair pin) noexcept { return pin == KeyPair::Auth ? authPinVerified_ : signPinVerified_; }

    JpkiStore& store_;
    JpkiCardOptions options_;
    Bytes tokenInfo_;  // EF 0006

    // Session state (volatile: lost on power-off, reset and removal).
    bool apSelected_ = false;
    std::optional<Ef> currentEf_;
    bool authPinVerified_ = false;
    bool signPinVerified_ = false;
    apdu::PendingResponse pending_;
};

}  // namespace inkan::vcard::jpki
