// Unit tests: the journal entry of a log line (api/log.hpp): priorities, the
// INKAN_* fields, and that a problem answer names its code for INKAN_CODE.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api/log.hpp"
#include "api/problem.hpp"
#include "daemon/error.hpp"

using inkan::log::Fields;
using inkan::log::Level;
using inkan::log::journalFields;

namespace {

bool has(const std::vector<std::string>& entry, const std::string& field)
{
    return std::find(entry.begin(), entry.end(), field) != entry.end();
}

bool hasName(const std::vector<std::string>& entry, const std::string& name)
{
    return std::any_of(entry.begin(), entry.end(), [&](const std::string& f) { return f.starts_with(name + "="); });
}

}  // namespace

TEST_SUITE("log")
{
    TEST_CASE("levels map to syslog priorities; MESSAGE and SYSLOG_IDENTIFIER always")
    {
        const auto info = journalFields(Level::Info, "started", {});
        CHECK(info == std::vector<std::string>{"MESSAGE=started", "PRIORITY=6", "SYSLOG_IDENTIFIER=inkand"});
        CHECK(has(journalFields(Level::Warn, "w", {}), "PRIORITY=4"));
        CHECK(has(journalFields(Level::Error, "e", {}), "PRIORITY=3"));
    }

    TEST_CASE("each INKAN_* field is there when set and absent when empty")
    {
        Fields fields;
        fields.requestId = "0123abcd";
        fields.card = "card-1";
        fields.origin = "https://portal.example.jp";
        fields.code = "PIN_BLOCKED";
        const auto entry = journalFields(Level::Info, "POST /v1/cards/card-1/sign 423 12ms", fields);
        CHECK(has(entry, "MESSAGE=POST /v1/cards/card-1/sign 423 12ms"));
        CHECK(has(entry, "INKAN_REQUEST_ID=0123abcd"));
        CHECK(has(entry, "INKAN_CARD=card-1"));
        CHECK(has(entry, "INKAN_ORIGIN=https://portal.example.jp"));
        CHECK(has(entry, "INKAN_CODE=PIN_BLOCKED"));
        CHECK(entry.size() == 7);

        Fields some;
        some.card = "card-2";
        const auto partial = journalFields(Level::Warn, "m", some);
        CHECK(has(partial, "INKAN_CARD=card-2"));
        for (const char* name : {"INKAN_REQUEST_ID", "INKAN_ORIGIN", "INKAN_CODE"}) {
            CAPTURE(name);
            CHECK_FALSE(hasName(partial, name));
        }
    }

    TEST_CASE("a problem answer carries its code for the log, not in a header")
    {
        const auto response = inkan::api::problemResponse(inkan::Error(inkan::ErrorCode::PinBlocked, "blocked"));
        CHECK(response.problemCode == "PIN_BLOCKED");
        for (const auto& [name, value] : response.headers.fields()) CHECK(value != "PIN_BLOCKED");
    }
}
