// inkan fuzz target: the e-Gov format's reading of kousei.xml (bytes from any
// caller of POST /v1/cards/{cardId}/signatures), through libxml2 with inkan's
// DOCTYPE refusal and its search for </構成情報>.
//
// It must never crash, and it must refuse only with DOCUMENT_INVALID: any
// other error (an insertion point it cannot find, a canonicalization that
// fails) is a broken promise. What it accepts must prepare a SHA-256 digest.
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_egov_replay and run over tests/fuzz/seeds/egov/ by ctest (fuzz.replay).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/error.hpp"
#include "daemon/formats/egov_document.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace inkan;
    const std::string application = "<申請書/>";
    try {
        formats::EgovDocument document(Bytes(data, data + size),
                                       {{"app.xml", Bytes(application.begin(), application.end())}});
        // prepare() only embeds the certificate's bytes; they need not parse here.
        const Bytes digest = document.prepare({"sign", Bytes{0x30, 0x00}, {}});
        if (digest.size() != 32) std::abort();
    } catch (const Error& error) {
        if (error.code() != ErrorCode::DocumentInvalid) {
            std::fprintf(stderr, "fuzz_egov: %s on %zu bytes\n", error.what(), size);
            std::abort();
        }
    }
    return 0;
}
