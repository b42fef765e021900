// Test support for the card layer: hex literals and a transport that replays
// a script of expected command -> response pairs, failing on anything else.
#pragma once

#include <cctype>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <doctest/doctest.h>

#include "daemon/hex.hpp"
#include "daemon/pcsc/transport.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::test {

/// "00 A4 04 0C" -> bytes. Used to build constants before any test runs, so
/// it throws instead of using a doctest macro.
inline Bytes hex(std::string_view text)
{
    Bytes out;
    int high = -1;
    for (const char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        const int v = hexDigitValue(c);
        if (v < 0) throw std::invalid_argument("not a hex digit");
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

inline Bytes concat(Bytes a, const Bytes& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Replays expected command -> response pairs and fails on anything else.
/// A pair may be expected through the reader's PIN pad instead: then the
/// "command" is the PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE it gets.
class ScriptedTransport final : public pcsc::ApduTransport {
public:
    enum class Via { Transmit, PinpadVerify, PinpadModify };

    void expect(Bytes command, Bytes response) { expect(Via::Transmit, std::move(command), std::move(response)); }
    void expect(Via via, Bytes command, Bytes response)
    {
        script_.push_back(Step{via, std::move(command), std::move(response)});
    }

    Bytes transmit(pcsc::ByteView command) override { return next(Via::Transmit, command); }
    Bytes verifyPinDirect(pcsc::ByteView structure) override { return next(Via::PinpadVerify, structure); }
    Bytes modifyPinDirect(pcsc::ByteView structure) override { return next(Via::PinpadModify, structure); }

    bool finished() const { return script_.empty(); }
    int sent() const { return sent_; }

private:
    struct Step {
        Via via;
        Bytes command;
        Bytes response;
    };

    Bytes next(Via via, pcsc::ByteView command)
    {
        ++sent_;
        REQUIRE_MESSAGE(!script_.empty(), "unexpected command sent");
        auto step = std::move(script_.front());
        script_.pop_front();
        CHECK(static_cast<int>(via) == static_cast<int>(step.via));
        CHECK(Bytes(command.begin(), command.end()) == step.command);
        return step.response;
    }

    std::deque<Step> script_;
    int sent_ = 0;
};

}  // namespace inkan::test
