// inkan CLI — the documented exit codes (docs/cli.md, `inkan --help`).
//
// Scripts branch on these, so they are a stable interface: add new codes at
// the end, never renumber.
#pragma once

namespace inkan::cli {

enum class ExitCode : int {
    Ok = 0,
    Usage = 1,           // bad arguments, mismatched new PINs, several cards and no --card
    Unreachable = 2,     // inkand not running, TLS not trusted, no token/CA in the state dir
    ApiError = 3,        // inkand answered with a problem (its code and detail are printed)
    PinRefused = 4,      // PIN_INCORRECT, PIN_BLOCKED, UNBLOCK_CODE_INCORRECT, PIN_GUARD
    LocalIo = 5,         // a local file or tool (certutil, update-ca-certificates) failed
    CheckFailed = 6,     // `cert verify`: not valid, revoked or suspended; `selftest`: a check failed
    CheckInconclusive = 7,  // `cert verify`: no verified revocation evidence (verdict unknown)
};

constexpr int toInt(ExitCode code) noexcept { return static_cast<int>(code); }

}  // namespace inkan::cli
