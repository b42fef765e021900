#include "daemon/pcsc/scard_call.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace inkan::pcsc {

namespace {

std::string describe(std::string_view function, LONG result, std::string_view meaning)
{
    char code[16];
    std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(static_cast<DWORD>(result)));
    return std::string(function) + " failed (" + code + "): " + std::string(meaning);
}

[[noreturn]] void throwError(ErrorCode code, std::string_view function, LONG result, std::string_view meaning)
{
    throw Error(code, describe(function, result, meaning));
}

[[noreturn]] void throwFor(std::string_view function, LONG result)
{
    switch (result) {
    // pcscd is not running or went away: all handles are dead. pcsc-lite
    // reports a pcscd that dies while a call waits on it (SCardGetStatusChange)
    // as a broken client/daemon socket: SCARD_F_COMM_ERROR.
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_F_COMM_ERROR:
        throwError(ErrorCode::PcscUnavailable, function, result, "the PC/SC service is not running");
    // The card left the reader (or there never was one).
    case SCARD_W_REMOVED_CARD:
    case SCARD_E_NO_SMARTCARD:
        throwError(ErrorCode::CardRemoved, function, result, "the card was removed");
    case SCARD_W_RESET_CARD:
        throw CardResetError(describe(function, result, "the card was reset by another application"));
    // The reader vanished (unplugged) or is not usable right now.
    case SCARD_E_READER_UNAVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_NOT_READY:
        throwError(ErrorCode::ReaderUnavailable, function, result, "the reader is not available");
    // Another application holds the card exclusively, or pcscd is overloaded.
    case SCARD_E_SHARING_VIOLATION:
    case SCARD_E_SERVER_TOO_BUSY:
        throwError(ErrorCode::Busy, function, result, "the card is in use by another application");
    // The card is there but does not talk properly.
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNSUPPORTED_CARD:
    case SCARD_E_PROTO_MISMATCH:
    case SCARD_E_CARD_UNSUPPORTED:
    case SCARD_E_COMM_DATA_LOST:
        throwError(ErrorCode::CardError, function, result, "the card does not respond properly");
    // We lost (or never had) the transaction we thought we held.
    case SCARD_E_NOT_TRANSACTED:
        throwError(ErrorCode::Busy, function, result, "the card transaction was interrupted");
    case SCARD_E_CANCELLED:
        throwError(ErrorCode::Internal, function, result, "the call was cancelled");
    // Anything else (invalid handle or parameter, timeouts we never ask for,
    // insufficient buffers) is a bug on our side or in the stack.
    default:
        throwError(ErrorCode::Internal, function, result, "unexpected PC/SC error");
    }
}

}  // namespace

LONG scardCall(std::string_view function, LONG result, std::initializer_list<LONG> accepted)
{
    if (result == SCARD_S_SUCCESS) return result;
    if (std::find(accepted.begin(), accepted.end(), result) != accepted.end()) return result;
    throwFor(function, result);
}

}  // namespace inkan::pcsc
