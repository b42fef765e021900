// inkan fuzz target: the parsers of the security layer that read what others
// send — web origins (the Origin header, config entries), the escaping of
// text inkand sends to pinentry (its responses are libassuan's to parse), and a
// reader's PC/SC part 10 feature list.
//
// Nothing may crash or read out of bounds; normalizing an origin is
// idempotent and yields what a browser would send; an accepted origin never
// contains what an origin cannot (path, user info, spaces).
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_security_replay and run over tests/fuzz/seeds/security/ by ctest (fuzz.replay).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/pcsc/pinpad.hpp"
#include "daemon/security/assuan.hpp"
#include "daemon/security/origin.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    try {
        const std::string origin = inkan::security::normalizeOrigin(text);
        if (inkan::security::normalizeOrigin(origin) != origin) std::abort();
        if (!inkan::security::isSerializedOrigin(origin)) std::abort();
        if (origin.find_first_of("/?#@ \t\r\n", origin.find("://") + 3) != std::string::npos) std::abort();
    } catch (const inkan::security::OriginSyntaxError&) {
    }
    (void)inkan::security::isTrustworthyOrigin(text, true);

    const std::string line = inkan::security::assuan::command("SETDESC", text);
    if (line.size() >= inkan::security::assuan::kMaxLineLength || line.find('\n') != std::string::npos) std::abort();

    (void)inkan::pcsc::part10::parseFeatures(inkan::pcsc::ByteView(data, size));
    return 0;
}
