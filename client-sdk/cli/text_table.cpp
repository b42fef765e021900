#include "client-sdk/cli/text_table.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>

namespace inkan::cli {
namespace {

struct Range {
    char32_t first;
    char32_t last;
};

// Wide (W) and fullwidth (F) ranges of Unicode's EastAsianWidth.txt, coarsened
// to blocks: enough for Japanese names, addresses and symbols.
constexpr Range kWide[] = {
    {0x1100, 0x115F},    // Hangul Jamo initials
    {0x2E80, 0x303E},    // CJK radicals, ideographic description, CJK symbols and punctuation
    {0x3041, 0x33FF},    // Hiragana, Katakana, Bopomofo, Hangul compatibility, Kanbun, CJK compatibility
    {0x3400, 0x4DBF},    // CJK unified ideographs extension A
    {0x4E00, 0x9FFF},    // CJK unified ideographs
    {0xA000, 0xA4CF},    // Yi
    {0xAC00, 0xD7A3},    // Hangul syllables
    {0xF900, 0xFAFF},    // CJK compatibility ideographs
    {0xFE30, 0xFE4F},    // CJK compatibility forms
    {0xFF00, 0xFF60},    // fullwidth forms
    {0xFFE0, 0xFFE6},    // fullwidth signs
    {0x1F300, 0x1F64F},  // pictographs, emoticons
    {0x20000, 0x3FFFD},  // CJK extensions B and later
};

// Combining marks and the zero-width characters that take no column.
constexpr Range kZero[] = {
    {0x0300, 0x036F},  // combining diacritical marks
    {0x200B, 0x200F},  // zero width space, joiners, direction marks
    {0x3099, 0x309A},  // combining kana voiced sound marks
    {0xFE00, 0xFE0F},  // variation selectors
};

bool inRanges(char32_t c, const auto& ranges)
{
    return std::any_of(std::begin(ranges), std::end(ranges), [c](const Range& r) { return c >= r.first && c <= r.last; });
}

std::size_t columnsOf(char32_t c)
{
    if (inRanges(c, kZero)) return 0;
    return inRanges(c, kWide) ? 2 : 1;
}

void padTo(std::ostream& out, const std::string& text, std::size_t width)
{
    out << text;
    for (std::size_t w = displayWidth(text); w < width; ++w) out << ' ';
}

}  // namespace

std::size_t displayWidth(std::string_view utf8)
{
    std::size_t width = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        auto lead = static_cast<std::uint8_t>(utf8[i]);
        std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        if (length == 0 || i + length > utf8.size()) {  // invalid: one column per byte
            ++width;
            ++i;
            continue;
        }
        char32_t c = length == 1 ? lead : lead & (0x7F >> length);
        bool valid = true;
        for (std::size_t k = 1; k < length; ++k) {
            auto next = static_cast<std::uint8_t>(utf8[i + k]);
            if ((next & 0xC0) != 0x80) { valid = false; break; }
            c = (c << 6) | (next & 0x3F);
        }
        if (!valid) {
            ++width;
            ++i;
            continue;
        }
        width += columnsOf(c);
        i += length;
    }
    return width;
}

TextTable::TextTable(std::vector<std::string> header)
{
    rows_.push_back(std::move(header));
}

void TextTable::addRow(std::vector<std::string> cells)
{
    cells.resize(rows_.front().size());
    rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const
{
    std::vector<std::size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_)
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], displayWidth(row[c]));
    for (const auto& row : rows_) {
        std::ostringstream line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (c + 1 == row.size()) {
                line << row[c];
            } else {
                padTo(line, row[c], widths[c]);
                line << "  ";
            }
        }
        std::string text = line.str();
        text.erase(text.find_last_not_of(' ') + 1);  // empty last cells leave no trailing blanks
        out << text << '\n';
    }
}

void KeyValueList::add(std::string key, std::string value)
{
    rows_.emplace_back(std::move(key), std::move(value));
}

void KeyValueList::print(std::ostream& out) const
{
    std::size_t width = 0;
    for (const auto& [key, value] : rows_) width = std::max(width, displayWidth(key));
    for (const auto& [key, value] : rows_) {
        padTo(out, key, width);
        out << "  " << value << '\n';
    }
}

}  // namespace inkan::cli
