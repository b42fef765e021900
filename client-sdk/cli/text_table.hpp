// inkan CLI — aligned text for terminals, UTF-8 aware.
//
// Certificate subjects and card labels are Japanese: a kanji takes two
// terminal columns, so padding by bytes or code points would misalign.
//
// Written here on purpose: the C library's wcwidth() depends on the user's
// locale (under C/POSIX it knows no kanji), and no kept library of Debian's
// does only this; the East Asian Width ranges needed (Unicode UAX #11) are a
// short table kept with the code.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::cli {

/// Terminal columns of a UTF-8 string: East Asian wide and fullwidth
/// characters count 2 (Unicode UAX #11), combining marks 0, others 1.
/// Invalid bytes count 1 each.
std::size_t displayWidth(std::string_view utf8);

class TextTable {
public:
    explicit TextTable(std::vector<std::string> header);

    void addRow(std::vector<std::string> cells);

    /// Columns separated by two spaces, the last column not padded.
    void print(std::ostream& out) const;

private:
    std::vector<std::vector<std::string>> rows_;
};

/// "Label   value" pairs, the labels padded to the widest.
class KeyValueList {
public:
    void add(std::string key, std::string value);
    void print(std::ostream& out) const;

private:
    std::vector<std::pair<std::string, std::string>> rows_;
};

}  // namespace inkan::cli
