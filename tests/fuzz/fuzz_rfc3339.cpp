// inkan fuzz target: the RFC 3339 parser behind the validation's `at` query
// parameter (text from any caller of the API).
//
// It must never crash or read out of bounds, and what it accepts must be a
// real instant that a canonical rewrite parses back to the same value.
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_rfc3339_replay and run over tests/fuzz/seeds/rfc3339/ by ctest (fuzz.replay).
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
