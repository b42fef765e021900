// inkan — the APDU channel: one command in, one complete response out.
//
// Hides the two transport-level status words every caller would otherwise
// have to handle (ISO/IEC 7816-4 §5.6, ISO/IEC 7816-3 §10.3.3 for T=0):
//   61xx  more data is available: fetch it with GET RESPONSE (Le = xx, 00 = 256)
//         and append it, until the card stops answering 61xx;
//   6Cxx  wrong Le: resend the same command once with Le = xx, but only a
//         command that has an Le (one that asks for response data). A command
//         without Le cannot have a wrong one: its 6Cxx is the card's answer
//         and goes back to the caller. So the PIN-carrying commands (VERIFY
//         with data, CHANGE REFERENCE DATA, RESET RETRY COUNTER: no Le) are
//         never sent twice, and a try is never spent twice for one request.
// Everything else (including errors) is returned to the caller unchanged; the
// meaning of status words is decided in daemon/card/status_words.*.
#pragma once

#include <cstddef>
#include <cstdint>

#include "daemon/pcsc/apdu.hpp"
#include "daemon/pcsc/pinpad.hpp"
#include "daemon/pcsc/transport.hpp"

namespace inkan::pcsc {

class ApduChannel {
public:
    /// GET RESPONSE: CLA 00, INS C0, P1 P2 00 00 (ISO/IEC 7816-4 §7.6.1).
    static constexpr ApduHeader kGetResponse{0x00, 0xC0, 0x00, 0x00};
    /// SW1 61: "SW2 encodes the number of data bytes still available".
    static constexpr std::uint8_t kSw1MoreData = 0x61;
    /// SW1 6C: "wrong Le field; SW2 encodes the exact number of available data bytes".
    static constexpr std::uint8_t kSw1WrongLe = 0x6C;
    /// Upper bound on one assembled response. No command inkan sends returns
    /// more than a few hundred bytes; a card that keeps answering 61xx beyond
    /// this is broken or hostile, and must not make us allocate without end.
    static constexpr std::size_t kMaxResponseSize = 64 * 1024;
    /// Likewise for the number of GET RESPONSE rounds: a card answering 6100
    /// with no data at all would otherwise keep us looping forever.
    static constexpr int kMaxGetResponseRounds = 256;

    explicit ApduChannel(ApduTransport& transport) noexcept : transport_(transport) {}

    ResponseApdu transmit(const CommandApdu& command);

    /// The reader's PIN pad sends the command (transport.hpp): a VERIFY, or a
    /// CHANGE REFERENCE DATA / RESET RETRY COUNTER. PIN commands carry no
    /// response data, so there is no 61xx / 6Cxx to handle. Throws
    /// PinpadUnavailable when the reader has no PIN pad for it.
    ResponseApdu verifyOnPinpad(const part10::PinVerifyParameters& parameters);
    ResponseApdu modifyOnPinpad(const part10::PinModifyParameters& parameters);

private:
    ResponseApdu transmitOnce(const CommandApdu& command);

    ApduTransport& transport_;
};

}  // namespace inkan::pcsc
