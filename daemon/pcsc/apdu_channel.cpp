#include "daemon/pcsc/apdu_channel.hpp"

#include <string>

#include "daemon/error.hpp"

namespace inkan::pcsc {

namespace {

// In both 61xx and 6Cxx, SW2 = 00 stands for 256 bytes (short Le encoding).
std::size_t lengthFromSw2(std::uint8_t sw2) { return sw2 == 0 ? CommandApdu::kMaxShortLe : sw2; }

}  // namespace

ResponseApdu ApduChannel::transmitOnce(const CommandApdu& command)
{
    auto encoded = command.encode();
    const WipeOnExit wipeEncoded(encoded);  // may carry a PIN block
    const auto raw = transport_.transmit(encoded);
    return ResponseApdu::fromBytes(raw);
}

ResponseApdu ApduChannel::transmit(const CommandApdu& command)
{
    auto response = transmitOnce(command);

    // 6Cxx: the card tells the exact length; asking again once is enough. A
    // second 6Cxx is returned as is and becomes a CardError upstream. Only a
    // command with Le is re-sent: see the header (never a PIN twice).
    if (response.sw1() == kSw1WrongLe && command.le()) {
        response = transmitOnce(command.withLe(lengthFromSw2(response.sw2())));
    }

    if (response.sw1() != kSw1MoreData) return response;

    Bytes data = response.takeData();
    auto sw = response.sw();
    for (int round = 1; (sw >> 8) == kSw1MoreData; ++round) {
        if (round > kMaxGetResponseRounds) {
            throw Error(ErrorCode::CardError, "the card keeps answering 61xx after "
                                                  + std::to_string(kMaxGetResponseRounds) + " GET RESPONSE commands");
        }
        auto getResponse = CommandApdu(kGetResponse, {}, lengthFromSw2(static_cast<std::uint8_t>(sw & 0xFF)));
        auto part = transmitOnce(getResponse);
        // Some cards answer a GET RESPONSE with the wrong Le by 6Cxx, too.
        if (part.sw1() == kSw1WrongLe) part = transmitOnce(getResponse.withLe(lengthFromSw2(part.sw2())));
        if (data.size() + part.data().size() > kMaxResponseSize) {
            throw Error(ErrorCode::CardError, "the card's response exceeds " + std::to_string(kMaxResponseSize) + " bytes");
        }
        data.insert(data.end(), part.data().begin(), part.data().end());
        sw = part.sw();
    }
    return ResponseApdu(std::move(data), sw);
}

ResponseApdu ApduChannel::verifyOnPinpad(const part10::PinVerifyParameters& parameters)
{
    return ResponseApdu::fromBytes(transport_.verifyPinDirect(part10::encodePinVerifyStructure(parameters)));
}

ResponseApdu ApduChannel::modifyOnPinpad(const part10::PinModifyParameters& parameters)
{
    return ResponseApdu::fromBytes(transport_.modifyPinDirect(part10::encodePinModifyStructure(parameters)));
}

}  // namespace inkan::pcsc
