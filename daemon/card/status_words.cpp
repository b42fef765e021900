#include "daemon/card/status_words.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include "daemon/error.hpp"

namespace inkan::card {

namespace {

// 63Cx: "counter provided by 'x'" (ISO/IEC 7816-4 §5.6, table 6).
std::optional<int> retryCounter(std::uint16_t statusWord)
{
    const auto sw1 = static_cast<std::uint8_t>(statusWord >> 8);
    const auto sw2 = static_cast<std::uint8_t>(statusWord & 0xFF);
    if (sw1 != sw::kSw1VerificationFailed || (sw2 & 0xF0) != sw::kCounterMarker) return std::nullopt;
    return sw2 & 0x0F;
}

std::string hex(std::uint16_t statusWord)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04X", static_cast<unsigned>(statusWord));
    return text;
}

bool isPinCommand(CardCommand command)
{
    return command == CardCommand::VerifyPin || command == CardCommand::ChangePin || command == CardCommand::UnblockPin;
}

}  // namespace

std::string_view toString(CardCommand command)
{
    switch (command) {
    case CardCommand::Select: return "SELECT";
    case CardCommand::ReadBinary: return "READ BINARY";
    case CardCommand::VerifyPin: return "VERIFY";
    case CardCommand::ChangePin: return "CHANGE REFERENCE DATA";
    case CardCommand::UnblockPin: return "RESET RETRY COUNTER";
    case CardCommand::ManageSecurityEnvironment: return "MSE SET";
    case CardCommand::ComputeSignature: return "PSO COMPUTE DIGITAL SIGNATURE";
    }
    return "command";
}

void checkStatusWord(std::uint16_t statusWord, CardCommand command)
{
    if (statusWord == sw::kSuccess) return;

    if (isPinCommand(command)) {
        const bool unblock = command == CardCommand::UnblockPin;
        if (const auto triesLeft = retryCounter(statusWord)) {
            if (*triesLeft == 0) {
                throw Error(unblock ? ErrorCode::UnblockCodeBlocked : ErrorCode::PinBlocked,
                            unblock ? "wrong unblock code; the unblock code is now blocked and the card must be reissued"
                                    : "wrong PIN; the PIN is now blocked")
                    .withTriesLeft(0);
            }
            throw Error(unblock ? ErrorCode::UnblockCodeIncorrect : ErrorCode::PinIncorrect,
                        (unblock ? "wrong unblock code, " : "wrong PIN, ") + std::to_string(*triesLeft) + " tries left")
                .withTriesLeft(*triesLeft);
        }
        if (statusWord == sw::kAuthenticationBlocked) {
            throw Error(unblock ? ErrorCode::UnblockCodeBlocked : ErrorCode::PinBlocked,
                        unblock ? "the unblock code is blocked; the card must be reissued" : "the PIN is blocked")
                .withTriesLeft(0);
        }
        if (statusWord == sw::kWrongData) {
            throw Error(ErrorCode::PinFormat, "the card refused the PIN's format (no try was spent)");
        }
    }
    if (command == CardCommand::ComputeSignature && statusWord == sw::kSecurityStatusNotSatisfied) {
        throw Error(ErrorCode::PinRequired, "the card needs the PIN for this signature");
    }
    throw Error(ErrorCode::CardError,
                std::string(toString(command)) + " failed with status word " + hex(statusWord))
        .withStatusWord(statusWord);
}

void checkPinpadStatusWord(std::uint16_t statusWord, CardCommand command)
{
    switch (statusWord) {
    case sw::kPinpadTimeout:
        throw Error(ErrorCode::PinEntryTimeout, "nobody typed the PIN on the reader's PIN pad in time (no try was spent)");
    case sw::kPinpadCancelled:
        throw Error(ErrorCode::PinCancelled, "the PIN entry was cancelled on the reader's PIN pad");
    case sw::kPinpadNewPinsDiffer:
        throw Error(ErrorCode::PinFormat, "the new PIN was typed differently the second time (no try was spent)");
    case sw::kPinpadLengthOutOfRange:
        throw Error(ErrorCode::PinFormat, "the PIN typed on the PIN pad is too short or too long (no try was spent)");
    default: checkStatusWord(statusWord, command);
    }
}

PinStatus pinStatusFromStatusWord(std::uint16_t statusWord, int maxTries)
{
    if (statusWord == sw::kSuccess) return PinStatus{maxTries, maxTries, false};
    if (const auto triesLeft = retryCounter(statusWord)) return PinStatus{*triesLeft, maxTries, *triesLeft == 0};
    if (statusWord == sw::kAuthenticationBlocked) return PinStatus{0, maxTries, true};
    throw Error(ErrorCode::CardError, "VERIFY (PIN status) failed with status word " + hex(statusWord))
        .withStatusWord(statusWord);
}

}  // namespace inkan::card
