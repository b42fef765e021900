// inkan — the one place where a PC/SC (SCard*) return code becomes an inkan::Error.
//
// Every SCard* call in daemon/pcsc/ goes through scardCall(). A caller that
// handles some codes itself (SCARD_E_CANCELLED in the reader monitor,
// SCARD_E_NO_READERS_AVAILABLE when listing readers) names them in `accepted`
// and gets them back as the return value instead of an exception.
#pragma once

#include <initializer_list>
#include <string_view>

#include <winscard.h>

#include "daemon/error.hpp"

namespace inkan::pcsc {

/// SCARD_W_RESET_CARD: another application (or the reader) reset the card,
/// so everything the card remembered (selected application, verified PIN) is
/// gone. CardConnection catches it, reconnects and, where no APDU of the
/// current operation has reached the card yet, retries; if it escapes, the
/// caller sees Busy ("try again"): nothing was done on the card.
class CardResetError : public Error {
public:
    explicit CardResetError(std::string message) : Error(ErrorCode::Busy, std::move(message)) {}
};

/// Returns `result` when it is SCARD_S_SUCCESS or one of `accepted`;
/// otherwise throws the inkan::Error it stands for. `function` names the call
/// in the message ("SCardConnect").
LONG scardCall(std::string_view function, LONG result, std::initializer_list<LONG> accepted = {});

}  // namespace inkan::pcsc
