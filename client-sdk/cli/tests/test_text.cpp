// Tables line up in a terminal even with Japanese text.
#include <sstream>

#include <doctest/doctest.h>

#include "client-sdk/cli/text_table.hpp"

using inkan::cli::displayWidth;
using inkan::cli::TextTable;

TEST_CASE("kanji and kana take two columns, ASCII one")
{
    CHECK(displayWidth("abc") == 3);
    CHECK(displayWidth("株式会社") == 8);
    CHECK(displayWidth("いんかん商事") == 12);
    CHECK(displayWidth("ＡＢ") == 4);  // fullwidth Latin
    CHECK(displayWidth("O=株式会社") == 10);
}

TEST_CASE("combining marks take no column and broken UTF-8 does not crash")
{
    CHECK(displayWidth("e\xCC\x81") == 1);        // e + combining acute accent
    CHECK(displayWidth("\xE6\xA0") == 2);         // truncated sequence: one per byte
    CHECK(displayWidth("\xFF\xFE") == 2);
}

TEST_CASE("a table pads by display width and leaves no trailing blanks")
{
    TextTable table({"ID", "SUBJECT", "NOTE"});
    table.addRow({"sign", "株式会社", ""});
    table.addRow({"ca", "CA", "root"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() ==
          "ID    SUBJECT   NOTE\n"
          "sign  株式会社\n"
          "ca    CA        root\n");
}
