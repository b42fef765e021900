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
        const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::toupper(c) - 'A' + 10;
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
class ScriptedTransport final : public pcsc::ApduTransport {
public:
    void expect(Bytes command, Bytes response) { script_.emplace_back(std::move(command), std::move(response)); }

    Bytes transmit(pcsc::ByteView command) override
    {
        ++sent_;
        REQUIRE_MESSAGE(!script_.empty(), "unexpected command sent");
        auto next = std::move(script_.front());
        script_.pop_front();
        CHECK(Bytes(command.begin(), command.end()) == next.first);
        return next.second;
    }

    bool finished() const { return script_.empty(); }
    int sent() const { return sent_; }

private:
    std::deque<std::pair<Bytes, Bytes>> script_;
    int sent_ = 0;
};

}  // namespace inkan::test
