// inkan fuzz target: the RFC 3339 parser behind the validation's `at` query
// parameter (text from any caller of the API).
//
// It must never crash or read out of bounds, and what it accepts must be a
// real instant that a canonical rewrite parses back to the same value.
//
// libFuzzer (clang):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//       tests/fuzz/fuzz_rfc3339.cpp daemon/service/rfc3339.cpp -o fuzz_rfc3339
//   ./fuzz_rfc3339 -max_total_time=60
// Without libFuzzer, a replay driver (runs each file given once):
//   g++ -std=c++20 -DINKAN_FUZZ_STANDALONE -fsanitize=address,undefined -I. \
//       tests/fuzz/fuzz_rfc3339.cpp daemon/service/rfc3339.cpp -o fuzz_rfc3339
//   ./fuzz_rfc3339 FILE...
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/service/rfc3339.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = inkan::service::parseRfc3339(text);
    if (!parsed) return 0;

    // Accepted: the same instant written canonically (UTC, "Z") reads back equal.
    const auto days = std::chrono::floor<std::chrono::days>(*parsed);
    const std::chrono::year_month_day date{days};
    const std::chrono::hh_mm_ss time{*parsed - days};
    if (!date.ok()) std::abort();
    const int year = static_cast<int>(date.year());
    if (year < 0 || year > 9999) return 0;  // an offset moved it outside four digits
    char canonical[32];
    std::snprintf(canonical, sizeof canonical, "%04d-%02u-%02uT%02d:%02d:%02dZ", year, static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
    if (inkan::service::parseRfc3339(canonical) != parsed) std::abort();
    return 0;
}

#ifdef INKAN_FUZZ_STANDALONE
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        std::cout << argv[i] << ": ok\n";
    }
    return 0;
}
#endif
