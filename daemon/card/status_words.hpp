// inkan — the one place where ISO/IEC 7816-4 status words get their meaning.
//
// Card profiles send APDUs and hand every status word they do not expect to
// checkStatusWord(); it turns it into the inkan::Error the user sees
// (wrong PIN with the tries left, blocked, PIN required, or CardError with
// the status word). PIN probes (VERIFY without data) go through
// pinStatusFromStatusWord(). No other code decides what a status word means.
// The transport-level status words 61xx / 6Cxx are the APDU channel's
// (daemon/pcsc/apdu_channel.hpp); a 6Cxx to a command without Le (every PIN
// command) does get here, and is a CardError like any other surprise.
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/card/types.hpp"

namespace inkan::card {

/// Status words (ISO/IEC 7816-4 §5.6, tables 5 and 6) that profiles compare against.
namespace sw {
inline constexpr std::uint16_t kSuccess = 0x9000;                    // normal processing
inline constexpr std::uint8_t kSw1VerificationFailed = 0x63;         // 63Cx: x tries left
inline constexpr std::uint8_t kCounterMarker = 0xC0;                 // SW2 high nibble C: counter in the low nibble
inline constexpr std::uint16_t kSecurityStatusNotSatisfied = 0x6982; // e.g. PSO before VERIFY
inline constexpr std::uint16_t kAuthenticationBlocked = 0x6983;      // PIN / unblock code blocked
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kWrongData = 0x6A80;                  // incorrect data field (e.g. PIN block)
inline constexpr std::uint16_t kFileNotFound = 0x6A82;
// What a PIN pad reader answers instead of the card when the entry itself
// failed (PC/SC IFD handlers such as libccid, from the reader's CCID errors);
// nothing reached the card.
inline constexpr std::uint16_t kPinpadTimeout = 0x6400;
inline constexpr std::uint16_t kPinpadCancelled = 0x6401;
inline constexpr std::uint16_t kPinpadNewPinsDiffer = 0x6402;
inline constexpr std::uint16_t kPinpadLengthOutOfRange = 0x6403;
}  // namespace sw

/// The command a status word answers: the same word means different things
/// after different commands (6982 after PSO = "PIN required").
enum class CardCommand {
    Select,
    ReadBinary,
    VerifyPin,
    ChangePin,
    UnblockPin,  // RESET RETRY COUNTER with the unblock code
    ManageSecurityEnvironment,
    ComputeSignature,
};

std::string_view toString(CardCommand command);

/// Returns when `statusWord` is 9000; otherwise throws the inkan::Error it means:
///   63Cx after VERIFY / CHANGE              -> PinIncorrect, triesLeft x (x = 0: PinBlocked)
///   63Cx after RESET RETRY COUNTER          -> UnblockCodeIncorrect, triesLeft x (x = 0: UnblockCodeBlocked)
///   6983 after a PIN command                -> PinBlocked (UnblockCodeBlocked after RESET RETRY COUNTER)
///   6A80 after a PIN command                -> PinFormat (the card refused the PIN block; no try spent)
///   6982 after PSO COMPUTE DIGITAL SIGNATURE-> PinRequired
///   anything else                           -> CardError with statusWord
void checkStatusWord(std::uint16_t statusWord, CardCommand command);

/// checkStatusWord for a PIN command the reader's PIN pad sent, which may
/// also answer for the reader itself:
///   6400 -> PinEntryTimeout (nobody typed the PIN in time)
///   6401 -> PinCancelled (Cancel pressed on the pad)
///   6402 -> PinFormat (the new PIN typed twice differently)
///   6403 -> PinFormat (too short or too long for the card)
void checkPinpadStatusWord(std::uint16_t statusWord, CardCommand command);

/// The PIN status told by VERIFY without data (ISO/IEC 7816-4 §11.5.6, no try spent):
///   9000 -> verified in this session, so the counter is full (maxTries)
///   63Cx -> x tries left (x = 0: blocked)
///   6983 -> blocked
/// anything else throws CardError with statusWord.
PinStatus pinStatusFromStatusWord(std::uint16_t statusWord, int maxTries);

}  // namespace inkan::card
