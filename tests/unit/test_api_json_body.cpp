// JsonBody's arrays of objects (the e-Gov format's "files"): string members
// kept as secrets, anything else refused or skipped, duplicates refused.
#include <doctest/doctest.h>

#include "api/json_mapping.hpp"
#include "daemon/error.hpp"

using namespace inkan;
using namespace inkan::api;

TEST_SUITE("api json body")
{
    TEST_CASE("an array of objects keeps each object's string members")
    {
        const JsonBody body = JsonBody::parse(
            R"({"files":[{"name":"a.xml","content":"QQ==","extra":{"deep":"x"},"n":1},{"name":"b.txt"}],"pin":"1234"})");
        const auto* files = body.optionalObjectArray("files");
        REQUIRE(files != nullptr);
        REQUIRE(files->size() == 2);
        CHECK(files->at(0).at("name").view() == "a.xml");
        CHECK(files->at(0).at("content").view() == "QQ==");
        CHECK(files->at(0).count("extra") == 0);
        CHECK(files->at(0).count("n") == 0);
        CHECK(files->at(1).at("name").view() == "b.txt");
        CHECK(body.requiredSecret("pin").view() == "1234");
        CHECK(body.optionalObjectArray("missing") == nullptr);
        CHECK(JsonBody::parse(R"({"files":null})").optionalObjectArray("files") == nullptr);
    }

    TEST_CASE("anything but an array of objects is refused, and so is a repeated member")
    {
        for (const char* text : {R"({"files":"x"})", R"({"files":["x"]})", R"({"files":[{"name":"a"},[]]})", R"({"files":{}})"}) {
            CAPTURE(text);
            CHECK_THROWS_AS(JsonBody::parse(text).optionalObjectArray("files"), Error);
        }
        CHECK_THROWS_AS(JsonBody::parse(R"({"files":[{"name":"a","name":"b"}]})"), Error);
    }
}
