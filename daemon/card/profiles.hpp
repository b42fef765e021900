// inkan — which card profile handles a card, decided by its ATR.
#pragma once

#include <memory>
#include <string_view>

#include "daemon/card/token.hpp"
#include "daemon/pcsc/bytes.hpp"

namespace inkan::card {

/// The profile for a card with this ATR, or nullptr when inkan supports no
/// such card. Exact entries are tried first, then masked ones.
std::unique_ptr<Token> tokenForAtr(pcsc::ByteView atr);

}  // namespace inkan::card
