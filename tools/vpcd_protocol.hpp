// inkan test tools — vsmartcard's vpcd protocol, which both tools speak:
// inkan-vcard is a card (the connecting end), inkan-vpinpad a reader (the
// listening end, as pcscd's vpcd driver is).
//
// Connecting inserts the card, closing removes it. Every message, both ways,
// is a 2-byte big-endian length and the payload; the reader speaks first. A
// 1-byte payload is a control message: 00 power off, 01 power on, 02 reset
// (none answered), 04 "send your ATR" (answered with the ATR). Any other
// payload is a command APDU, answered with the response APDU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inkan::vpcd {

inline constexpr std::uint16_t kDefaultPort = 35963;  // pcscd's vpcd driver: slot 0; slot 1 listens on 35964
inline constexpr std::uint8_t kControlPowerOff = 0x00;
inline constexpr std::uint8_t kControlPowerOn = 0x01;
inline constexpr std::uint8_t kControlReset = 0x02;
inline constexpr std::uint8_t kControlGetAtr = 0x04;
inline constexpr std::size_t kLengthPrefix = 2;
inline constexpr std::size_t kMaxPayload = 0xFFFF;

}  // namespace inkan::vpcd
