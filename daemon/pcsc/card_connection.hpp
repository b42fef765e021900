// inkan — a connection to the card in one reader (SCardConnect ... SCardDisconnect).
//
// Shared mode, so other applications (a browser's PKCS#11 module, OpenSC
// tools) keep working; exclusivity comes from one transaction per operation.
// Owns its own PC/SC context (see context.hpp for why).
#pragma once

#include <memory>
#include <string>

#include <winscard.h>

#include "daemon/pcsc/context.hpp"
#include "daemon/pcsc/pinpad.hpp"
#include "daemon/pcsc/transport.hpp"

namespace inkan::pcsc {

class CardConnection final : public CardHandle {
public:
    /// Connects to the card in `reader` (T=0 or T=1, whichever the card and
    /// reader agree on). Throws inkan::Error: CardRemoved when the reader is
    /// empty, ReaderUnavailable, Busy, PcscUnavailable.
    explicit CardConnection(std::string reader);
    ~CardConnection() override;

    CardConnection(const CardConnection&) = delete;
    CardConnection& operator=(const CardConnection&) = delete;

    const std::string& reader() const noexcept { return reader_; }

    /// Begins a transaction. If the card was reset since the last one
    /// (SCARD_W_RESET_CARD), reconnects first: nothing of this operation has
    /// been sent yet, so that is transparent.
    std::unique_ptr<CardTransaction> beginTransaction() override;

    /// The reader's part 10 features, asked for on connecting (SCardControl
    /// with CM_IOCTL_GET_FEATURE_REQUEST); none when it does not answer.
    bool readerHasPinpad() noexcept override { return features_.hasPinpad(); }

private:
    class Transaction;

    void connect();
    void reconnect();
    /// Throws what SCardStatus reports for the card (removed, reset, pcscd gone).
    void checkCard();
    /// checkCard() for about a second, until pcscd has noticed what ended
    /// our transaction; returns when it still sees nothing wrong.
    void checkCardAfterInterruption();
    void disconnect() noexcept;
    void readFeatures() noexcept;

    std::string reader_;
    Context context_;
    SCARDHANDLE card_ = 0;
    bool connected_ = false;
    DWORD protocol_ = SCARD_PROTOCOL_UNDEFINED;
    part10::Features features_;
};

}  // namespace inkan::pcsc
