// inkan fuzz target: the card layer against a card that answers anything — a
// broken or hostile card, or a reader that garbles. The input is the card's
// side of the conversation: each answer is a two-byte big-endian length and
// that many bytes (an exhausted input answers 6F00, "no precise diagnosis"). The reference
// card profile reads the identity and certificates, the PIN and unblock code
// counters, verifies a PIN, verifies on a PIN pad and signs, through the real
// APDU channel (61xx / 6Cxx handling).
//
// Nothing may crash, loop without end or read out of bounds, and every failure
// must be an inkan::Error (which the API turns into a problem+json answer).
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_card_replay and run over tests/fuzz/seeds/card/ by ctest (fuzz.replay).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <span>

#include "daemon/card/reference_card.hpp"
#include "daemon/error.hpp"
#include "daemon/pcsc/apdu_channel.hpp"
#include "daemon/pcsc/transport.hpp"

namespace {

/// Answers every command, on the pad too, with the next answer of the input.
class ScriptedByInput final : public inkan::pcsc::ApduTransport {
public:
    explicit ScriptedByInput(std::span<const std::uint8_t> input) : input_(input) {}

    inkan::Bytes transmit(inkan::pcsc::ByteView) override { return next(); }
    inkan::Bytes verifyPinDirect(inkan::pcsc::ByteView) override { return next(); }
    inkan::Bytes modifyPinDirect(inkan::pcsc::ByteView) override { return next(); }

private:
    static constexpr std::size_t kLengthPrefix = 2;

    inkan::Bytes next()
    {
        if (input_.size() < kLengthPrefix) return {0x6F, 0x00};
        const std::size_t length =
            std::min<std::size_t>((std::size_t{input_[0]} << 8) | input_[1], input_.size() - kLengthPrefix);
        inkan::Bytes answer(input_.begin() + kLengthPrefix,
                            input_.begin() + static_cast<std::ptrdiff_t>(kLengthPrefix + length));
        input_ = input_.subspan(kLengthPrefix + length);
        return answer;
    }

    std::span<const std::uint8_t> input_;
};

template <class Operation>
void expectOnlyInkanErrors(Operation&& operation)
{
    try {
        operation();
    } catch (const inkan::Error&) {
        // A card that answers nonsense is a CardError (or a PIN verdict): expected.
    } catch (...) {
        std::abort();  // anything else would reach the API as an internal error
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const inkan::card::ReferenceCard profile;
    ScriptedByInput card(std::span<const std::uint8_t>(data, size));
    inkan::pcsc::ApduChannel channel(card);
    const inkan::Secret pin("1234");
    const inkan::Bytes digest(32, 0x5A);

    expectOnlyInkanErrors([&] { (void)profile.readIdentity(channel); });
    expectOnlyInkanErrors([&] { (void)profile.readCertificates(channel); });
    expectOnlyInkanErrors([&] { (void)profile.pinStatus(channel, "user"); });
    expectOnlyInkanErrors([&] { (void)profile.unblockCodeStatus(channel, "user"); });
    expectOnlyInkanErrors([&] { (void)profile.verifyPin(channel, "user", inkan::PinInput(inkan::Secret("1234"))); });
    expectOnlyInkanErrors([&] { (void)profile.verifyPin(channel, "user", inkan::PinInput::onPinpad()); });
    expectOnlyInkanErrors([&] {
        const inkan::PinInput withPin(inkan::Secret(pin.view()));
        (void)profile.sign(channel, "sign", inkan::DigestAlgorithm::Sha256, digest, &withPin);
    });
    return 0;
}
