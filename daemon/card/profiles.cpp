// The ATR -> card profile table. One entry per card (or card family), one
// comment per entry saying which card it is and where its ATR comes from.
#include "daemon/card/profiles.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "daemon/card/jpki_card.hpp"
#include "daemon/card/jpki_card.hpp"
#include "daemon/card/reference_card.hpp"

namespace inkan::card {

namespace {

using TokenFactory = std::function<std::unique_ptr<Token>()>;

template <class Profile>
std::unique_ptr<Token> make()
{
    return std::make_unique<Profile>();
}

struct ExactAtr {
    Bytes atr;
    TokenFactory factory;
};

struct MaskedAtr {
    Bytes pattern;
    Bytes mask;  // bits set = must match the pattern
    TokenFactory factory;
};

const std::vector<ExactAtr>& exactAtrs()
{
    static const std::vector<ExactAtr> table{
        // inkan reference card v1 / inkan-vcard (docs/reference-card.md "ATR"):
        // T=0 and T=1, historical bytes "INKANVC1".
        {{0x3B, 0x88, 0x80, 0x01, 0x49, 0x4E, 0x4B, 0x41, 0x4E, 0x56, 0x43, 0x31, 0x6E}, make<ReferenceCard>},
        // The My Number card (個人番号カード), whose JPKI application this
        // profile uses (docs/jpki.md "ATR"; OpenSC card-jpki.c jpki_atrs).
        // Whether the application is there is settled by SELECT of its AID.
        {{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}, make<JpkiCard>},
    };
    return table;
}

const std::vector<MaskedAtr>& maskedAtrs()
{
    static const std::vector<MaskedAtr> table{
        // inkan reference card, any revision "INKANVCx": the last historical
        // byte and the TCK that follows it vary. Whether the application is
        // really there is settled by SELECT of its (versioned) AID; a card
        // without it is reported as unsupported.
        {{0x3B, 0x88, 0x80, 0x01, 0x49, 0x4E, 0x4B, 0x41, 0x4E, 0x56, 0x43, 0x00, 0x00},
         {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00},
         make<ReferenceCard>},
    };
    return table;
}

bool matches(pcsc::ByteView atr, const MaskedAtr& entry)
{
    if (atr.size() != entry.pattern.size()) return false;
    for (std::size_t i = 0; i < atr.size(); ++i) {
        if ((atr[i] & entry.mask[i]) != (entry.pattern[i] & entry.mask[i])) return false;
    }
    return true;
}

}  // namespace

std::unique_ptr<Token> tokenForAtr(pcsc::ByteView atr)
{
    for (const auto& entry : exactAtrs()) {
        if (std::equal(atr.begin(), atr.end(), entry.atr.begin(), entry.atr.end())) return entry.factory();
    }
    for (const auto& entry : maskedAtrs()) {
        if (matches(atr, entry)) return entry.factory();
    }
    return nullptr;
}

}  // namespace inkan::card
