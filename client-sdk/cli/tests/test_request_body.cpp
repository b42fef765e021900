// A request body carrying a PIN is valid JSON with the PIN escaped, built
// without nlohmann::json ever holding the secret.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "client-sdk/cli/request_body.hpp"

using inkan::Secret;
using inkan::cli::RequestBody;

TEST_CASE("a body with public fields and a PIN parses back to both")
{
    Secret pin("1234");
    RequestBody body(nlohmann::json{{"digest", "AAEC"}, {"digestAlgorithm", "SHA-256"}}, {{"pin", pin}});
    auto json = nlohmann::json::parse(body.view());
    CHECK(json["digest"] == "AAEC");
    CHECK(json["digestAlgorithm"] == "SHA-256");
    CHECK(json["pin"] == "1234");
}

TEST_CASE("a body of secrets only is an object of those secrets")
{
    Secret pin("1234");
    Secret newPin("24680");
    RequestBody body(nlohmann::json::object(), {{"pin", pin}, {"newPin", newPin}});
    CHECK(body.view() == R"({"pin":"1234","newPin":"24680"})");
}

TEST_CASE("quotes, backslashes and control characters in a secret are escaped, not injected")
{
    Secret hostile(std::string("12\",\"pin\":\"9\\\n\x01", 14));
    RequestBody body(nlohmann::json::object(), {{"pin", hostile}});
    auto json = nlohmann::json::parse(body.view());
    REQUIRE(json.size() == 1);
    CHECK(json["pin"].get<std::string>() == hostile.view());
}

TEST_CASE("non-ASCII secrets pass through as UTF-8")
{
    Secret pin("１２３４");
    RequestBody body(nlohmann::json::object(), {{"pin", pin}});
    CHECK(nlohmann::json::parse(body.view())["pin"] == "１２３４");
}

TEST_CASE("a public body without secrets is the public JSON")
{
    RequestBody body(nlohmann::json{{"certificate", "sign"}});
    CHECK(body.view() == R"({"certificate":"sign"})");
}
