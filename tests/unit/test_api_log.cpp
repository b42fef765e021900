// Unit tests: the journal entry of a log line (api/log.hpp): priorities, the
// INKAN_* fields, that a problem answer names its code for INKAN_CODE, and the
// entries of the 使用簿 records mirrored to the journal (daemon/audit/system_log.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api/log.hpp"
#include "api/problem.hpp"
#include "daemon/audit/system_log.hpp"
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

TEST_SUITE("log")
{
    TEST_CASE("a mirrored 使用簿 record becomes a journal entry with its INKAN_* fields, facility authpriv")
    {
        const std::string record =
            R"({"seq":7,"event":"done","op":"sign","requestId":"9f8e","who":{"kind":"origin","origin":"https://portal.example.jp"},)"
            R"("credential":{"cardId":"card-1","kind":"card"},"outcome":"PIN_INCORRECT","prev":"00","hash":"11"})";
        const auto entry = inkan::audit::journalFieldsOfRecord(record);
        CHECK(has(entry, "MESSAGE=audit " + record));
        CHECK(has(entry, "PRIORITY=6"));
        CHECK(has(entry, "SYSLOG_FACILITY=10"));
        CHECK(has(entry, "SYSLOG_IDENTIFIER=inkand"));
        CHECK(has(entry, "INKAN_REQUEST_ID=9f8e"));
        CHECK(has(entry, "INKAN_CARD=card-1"));
        CHECK(has(entry, "INKAN_ORIGIN=https://portal.example.jp"));
        CHECK(has(entry, "INKAN_CODE=PIN_INCORRECT"));
        CHECK(has(entry, "INKAN_AUDIT_OP=sign"));

        const auto ok = inkan::audit::journalFieldsOfRecord(R"({"event":"done","op":"pin.verify","outcome":"ok","who":{"kind":"local"}})");
        CHECK_FALSE(hasName(ok, "INKAN_CODE"));
        CHECK_FALSE(hasName(ok, "INKAN_ORIGIN"));
        CHECK(has(ok, "INKAN_AUDIT_OP=pin.verify"));

        // A notice about the ledger itself is not a record: message and priority only.
        const auto notice = inkan::audit::journalFieldsOfRecord("segment ledger-000002.jsonl starts after record 12");
        CHECK(notice.size() == 4);
        CHECK(has(notice, "MESSAGE=audit segment ledger-000002.jsonl starts after record 12"));
    }
}
