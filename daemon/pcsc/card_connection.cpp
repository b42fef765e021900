#include "daemon/pcsc/card_connection.hpp"

#include <array>
#include <chrono>
#include <string>
#include <thread>

#include <reader.h>  // pcsc-lite: CM_IOCTL_GET_FEATURE_REQUEST (PC/SC part 10 §2.2)

#include "daemon/error.hpp"
#include "daemon/pcsc/pinpad.hpp"
#include "daemon/pcsc/scard_call.hpp"

namespace inkan::pcsc {

namespace {

// Let the reader pick whichever of T=0 / T=1 the card offers (the reference
// card's ATR offers both, ISO/IEC 7816-3 §8.2.3).
constexpr DWORD kProtocols = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;

// The largest short R-APDU: 256 data bytes + SW1 SW2 (ISO/IEC 7816-4 §5.1).
constexpr std::size_t kMaxShortResponse = 256 + 2;

// After an interrupted transaction, how long to wait for pcscd to say why.
constexpr int kInterruptionChecks = 5;
constexpr std::chrono::milliseconds kInterruptionCheckInterval{200};

const SCARD_IO_REQUEST* sendPci(DWORD protocol)
{
    return protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
}

}  // namespace

class CardConnection::Transaction final : public CardTransaction {
public:
    explicit Transaction(CardConnection& connection) : connection_(connection)
    {
        // A reset by another application shows up here first (pcsc-lite
        // reports it on the next call on our handle): reconnect, then begin.
        try {
            scardCall("SCardBeginTransaction", SCardBeginTransaction(connection_.card_));
        } catch (const CardResetError&) {
            connection_.reconnect();
            scardCall("SCardBeginTransaction", SCardBeginTransaction(connection_.card_));
        }
    }

    ~Transaction() override
    {
        // Nothing to do about a failure here: the card was removed or pcscd
        // died, and the transaction is over either way.
        (void)SCardEndTransaction(connection_.card_, resetOnEnd_ ? SCARD_RESET_CARD : SCARD_LEAVE_CARD);
    }

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void resetCardOnEnd() noexcept override { resetOnEnd_ = true; }

    Bytes transmit(ByteView command) override
    {
        std::array<std::uint8_t, kMaxShortResponse> buffer{};
        DWORD length = buffer.size();
        call("SCardTransmit", [&] {
            return SCardTransmit(connection_.card_, sendPci(connection_.protocol_), command.data(),
                                 static_cast<DWORD>(command.size()), nullptr, buffer.data(), &length);
        });
        if (length > buffer.size()) throw Error(ErrorCode::Internal, "SCardTransmit returned more than the buffer");
        return Bytes(buffer.begin(), buffer.begin() + length);
    }

    Bytes verifyPinDirect(ByteView structure) override
    {
        const auto& code = connection_.features_.verifyPinDirect;
        if (!code) return CardTransaction::verifyPinDirect(structure);
        return control(*code, structure);
    }

    Bytes modifyPinDirect(ByteView structure) override
    {
        const auto& code = connection_.features_.modifyPinDirect;
        if (!code) return CardTransaction::modifyPinDirect(structure);
        return control(*code, structure);
    }

private:
    // One call that reaches the card inside this transaction.
    template <class Call>
    void call(const char* function, Call&& scardFunction)
    {
        try {
            if (scardCall(function, scardFunction(), {SCARD_E_NOT_TRANSACTED}) == SCARD_E_NOT_TRANSACTED) {
                // pcsc-lite drops our transaction when the card is pulled or
                // reset under it; SCardStatus tells which (and throws for it).
                connection_.checkCardAfterInterruption();
                throw Error(ErrorCode::Busy, std::string(function) + ": the card transaction was interrupted");
            }
        } catch (const CardResetError&) {
            // Reset in the middle of an operation: the card forgot what this
            // operation already did (selected application, verified PIN), so
            // the operation cannot go on. Reconnect so the next one works,
            // and let the error tell the caller to start over.
            connection_.reconnect();
            throw;
        }
    }

    // One PIN pad command: blocks while the user types (up to the reader's
    // timeout), inside this transaction, so nothing comes between.
    Bytes control(std::uint32_t code, ByteView input)
    {
        std::array<std::uint8_t, kMaxShortResponse> buffer{};
        DWORD length = 0;
        call("SCardControl", [&] {
            return SCardControl(connection_.card_, code, input.data(), static_cast<DWORD>(input.size()), buffer.data(),
                                static_cast<DWORD>(buffer.size()), &length);
        });
        if (length > buffer.size()) throw Error(ErrorCode::Internal, "SCardControl returned more than the buffer");
        return Bytes(buffer.begin(), buffer.begin() + length);
    }

    CardConnection& connection_;
    bool resetOnEnd_ = false;
};

CardConnection::CardConnection(std::string reader) : reader_(std::move(reader)) { connect(); }

CardConnection::~CardConnection() { disconnect(); }

void CardConnection::connect()
{
    try {
        scardCall("SCardConnect", SCardConnect(context_.handle(), reader_.c_str(), SCARD_SHARE_SHARED, kProtocols,
                                               &card_, &protocol_));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::PcscUnavailable) throw;
        // The context may predate a pcscd restart; a fresh one tells whether
        // the service is really down.
        context_.reestablish();
        scardCall("SCardConnect", SCardConnect(context_.handle(), reader_.c_str(), SCARD_SHARE_SHARED, kProtocols,
                                               &card_, &protocol_));
    }
    connected_ = true;
    readFeatures();
}

void CardConnection::reconnect()
{
    scardCall("SCardReconnect", SCardReconnect(card_, SCARD_SHARE_SHARED, kProtocols, SCARD_LEAVE_CARD, &protocol_));
}

void CardConnection::checkCard()
{
    DWORD readerLength = 0;
    DWORD state = 0;
    DWORD protocol = 0;
    std::array<BYTE, MAX_ATR_SIZE> atr{};
    DWORD atrLength = atr.size();
    scardCall("SCardStatus", SCardStatus(card_, nullptr, &readerLength, &state, &protocol, atr.data(), &atrLength));
}

void CardConnection::checkCardAfterInterruption()
{
    // pcscd learns of a removal from its next look at the reader: for a
    // reader it polls, up to its poll interval (PCSCLITE_STATUS_POLL_RATE,
    // 400 ms) later. A PIN pad reader that saw the card go during an entry
    // answers before that.
    for (int check = 0; check < kInterruptionChecks; ++check) {
        checkCard();
        std::this_thread::sleep_for(kInterruptionCheckInterval);
    }
    checkCard();
}

void CardConnection::disconnect() noexcept
{
    if (!connected_) return;
    // Leave the card powered as it is: other applications may be using it.
    (void)SCardDisconnect(card_, SCARD_LEAVE_CARD);
    connected_ = false;
}

std::unique_ptr<CardTransaction> CardConnection::beginTransaction() { return std::make_unique<Transaction>(*this); }

void CardConnection::readFeatures() noexcept
{
    features_ = {};
    // PC/SC part 10 §2.2: at most one TLV per feature, 6 bytes each; 256 is ample.
    std::array<BYTE, 256> answer{};
    DWORD length = 0;
    // Not through scardCall: a reader without part 10 support answers an
    // error, which only means "no pinpad".
    const LONG result = SCardControl(card_, CM_IOCTL_GET_FEATURE_REQUEST, nullptr, 0, answer.data(),
                                     static_cast<DWORD>(answer.size()), &length);
    if (result != SCARD_S_SUCCESS || length > answer.size()) return;
    features_ = part10::parseFeatures(ByteView(answer.data(), length));
}

}  // namespace inkan::pcsc
