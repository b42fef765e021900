// inkan — the Assuan protocol as spoken by GnuPG's pinentry programs, the
// client side (GnuPG "Assuan" manual, "The Assuan Protocol"; pinentry's
// doc/pinentry.texi for the commands).
//
// Line based: every line ends in LF and is at most 1000 bytes. The server
// answers each command with data lines "D <data>", status lines "S ...",
// comments "# ...", and finally "OK [text]" or "ERR <code> <text>". In
// command arguments and in D lines, '%', CR and LF (here: every control
// character) are written as %XX.
//
// Only parsing and formatting live here, so they can be tested without a
// process; pinentry.* runs the program.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/secret.hpp"

namespace inkan::security::assuan {

/// Assuan's line length limit, LF included (ASSUAN_LINELENGTH).
inline constexpr std::size_t kMaxLineLength = 1000;

/// "SETDESC" + escaped text, without the LF. Control characters, '%' and
/// bytes outside UTF-8 text are escaped; the text is cut (at a UTF-8
/// boundary) so the line fits kMaxLineLength.
std::string command(std::string_view verb, std::string_view argument = {});

/// Percent-escape for a command argument (see command()).
std::string escape(std::string_view text);

/// One response line, classified.
struct Response {
    enum class Kind { Ok, Error, Data, Status, Comment, Inquire, Malformed };
    Kind kind = Kind::Malformed;
    std::uint32_t errorCode = 0;  // for Error: the gpg-error code (source << 24 | code)
    std::string_view rest;        // text after the keyword (escaped for Data)
};

/// `line` without its LF.
Response parseResponse(std::string_view line);

/// The error part of a gpg-error value (GPG_ERR_* from libgpg-error).
inline constexpr std::uint32_t errorCodeOf(std::uint32_t value) noexcept { return value & 0xFFFFu; }

// libgpg-error codes a pinentry answers with (gpg-error.h).
inline constexpr std::uint32_t kGpgErrTimeout = 62;         // GPG_ERR_TIMEOUT
inline constexpr std::uint32_t kGpgErrCanceled = 99;        // GPG_ERR_CANCELED
inline constexpr std::uint32_t kGpgErrNotConfirmed = 114;   // GPG_ERR_NOT_CONFIRMED
inline constexpr std::uint32_t kGpgErrAssCanceled = 277;    // GPG_ERR_ASS_CANCELED
inline constexpr std::uint32_t kGpgErrFullyCanceled = 198;  // GPG_ERR_FULLY_CANCELED

/// The unescaped data of a D line, straight into a Secret (a D line of
/// GETPIN is the PIN; the scratch buffer is wiped). nullopt when an escape is
/// malformed.
std::optional<Secret> decodeData(std::string_view escaped);

}  // namespace inkan::security::assuan
