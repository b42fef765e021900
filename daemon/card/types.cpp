#include "daemon/card/types.hpp"

#include <algorithm>
#include <string>

#include "daemon/error.hpp"

namespace inkan {

namespace {

bool inAlphabet(char c, PinFormat::Alphabet alphabet)
{
    const bool digit = c >= '0' && c <= '9';
    switch (alphabet) {
    case PinFormat::Alphabet::Digits: return digit;
    case PinFormat::Alphabet::UpperAlphanumeric: return digit || (c >= 'A' && c <= 'Z');
    case PinFormat::Alphabet::Any: return static_cast<unsigned char>(c) >= 0x20 && c != 0x7F;
    }
    return false;
}

std::string_view alphabetName(PinFormat::Alphabet alphabet)
{
    switch (alphabet) {
    case PinFormat::Alphabet::Digits: return "digits";
    case PinFormat::Alphabet::UpperAlphanumeric: return "characters (A-Z, 0-9)";
    case PinFormat::Alphabet::Any: return "characters";
    }
    return "characters";
}

}  // namespace

void PinFormat::check(const Secret& value, std::string_view what) const
{
    const auto text = value.view();
    const bool fits = text.size() >= minLength && text.size() <= maxLength &&
                      std::all_of(text.begin(), text.end(), [this](char c) { return inAlphabet(c, alphabet); });
    if (fits) return;
    const auto range = minLength == maxLength ? std::to_string(minLength)
                                              : std::to_string(minLength) + " to " + std::to_string(maxLength);
    throw Error(ErrorCode::PinFormat, "the " + std::string(what) + " must be " + range + " " +
                                          std::string(alphabetName(alphabet)));
}

}  // namespace inkan
