// inkan tests — one generated virtual-card state per card for the whole test binary.
#pragma once

#include <filesystem>

#include "tests/unit/temp_dir.hpp"
#include "tools/vcard/card_store.hpp"
#include "tools/vcard/jpki_store.hpp"

namespace inkan::test {

/// A virtual card's state directory, generated once per run (two RSA key
/// generations, the slow part). Read it as it is; a test that changes a card
/// copies it into its own directory first.
inline const std::filesystem::path& generatedCardState()
{
    static TempDir dir("inkan-vcard-state");
    static const std::filesystem::path state = [] {
        const std::filesystem::path p = dir.path / "state";
        (void)vcard::CardStore::open(vcard::StoreOptions{p, {}, {}, {}, {}});
        return p;
    }();
    return state;
}

/// The same for the virtual JPKI card (four RSA key generations).
inline const std::filesystem::path& generatedJpkiState()
{
    static TempDir dir("inkan-vcard-jpki-state");
    static const std::filesystem::path state = [] {
        const std::filesystem::path p = dir.path / "state";
        (void)vcard::jpki::JpkiStore::open(p);
        return p;
    }();
    return state;
}

}  // namespace inkan::test
