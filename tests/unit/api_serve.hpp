// Test support for the API suites: hand one request to the Api and take its
// answer, which the fakes these suites use give before handle() returns.
#pragma once

#include <optional>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/http_message.hpp"

namespace inkan::test {

/// The one answer to `request` (exactly one: a second is a bug).
inline api::Response serveOnce(const api::Api& api, const api::Request& request)
{
    std::optional<api::Response> answer;
    int answers = 0;
    api.handle(request, [&](api::Response response) {
        ++answers;
        answer = std::move(response);
    });
    REQUIRE(answer.has_value());
    CHECK(answers == 1);
    return std::move(*answer);
}

/// The problem+json `code` of an error answer.
inline std::string problemCodeOf(const api::Response& response)
{
    return nlohmann::json::parse(response.body).at("code").get<std::string>();
}

}  // namespace inkan::test
