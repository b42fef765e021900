// inkan CLI — a JSON request body that may carry PINs or unblock codes.
//
// nlohmann::json would copy a secret into std::strings it frees without
// wiping, so secrets never enter a json value: the public members are
// serialised by nlohmann::json, the secret members are escaped straight into
// one buffer whose capacity is fixed up front (no reallocation can leave an
// unwiped copy behind) and which is wiped when the body dies. libcurl sends
// the buffer in place (CURLOPT_POSTFIELDS does not copy it).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/secret.hpp"

namespace inkan::cli {

struct SecretField {
    std::string_view name;  // a member name from the code, e.g. "pin"; never user input
    const Secret& value;
};

class RequestBody {
public:
    /// `fields` must be a JSON object holding only public members.
    explicit RequestBody(const nlohmann::json& fields, std::initializer_list<SecretField> secrets = {});
    ~RequestBody();

    RequestBody(const RequestBody&) = delete;
    RequestBody& operator=(const RequestBody&) = delete;

    std::string_view view() const noexcept { return buffer_; }

private:
    void append(std::string_view text);
    void appendEscaped(std::string_view text);

    std::string buffer_;
};

}  // namespace inkan::cli
