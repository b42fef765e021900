// inkan CLI — HTTPS to inkand's API, and nothing else.
//
// The daemon's certificate must chain to <state>/tls/ca.pem (the system CAs
// are not consulted), every request carries the local token, proxies are never
// used. Transport failures become Failure(Unreachable) with the reason and the
// fix; problem+json answers become ApiProblem. Both translations live in
// api_client.cpp and nowhere else.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "client-sdk/cli/curl_handles.hpp"
#include "daemon/secret.hpp"

namespace inkan::cli {

class RequestBody;

inline constexpr std::uint16_t kDefaultPort = 24713;  // design.md: default port

struct ApiResponse {
    long status = 0;
    std::string body;     // as received; printed as is with --json
    nlohmann::json json;  // the parsed body
};

class ApiClient {
public:
    ApiClient(std::uint16_t port, std::filesystem::path caFile, const Secret& token);

    /// `progress` is printed on stderr if the request takes longer than a second.
    ApiResponse get(std::string_view path, std::string_view progress = {});
    ApiResponse post(std::string_view path, const RequestBody& body, std::string_view progress = {});
    /// DELETE with an empty JSON object as its body (every request but GET is JSON).
    ApiResponse remove(std::string_view path, std::string_view progress = {});

    /// Follows a streamed GET (the event stream, docs/events.md): `onData` gets
    /// the body as it arrives, with no overall time limit; a connection silent
    /// for longer than `silenceLimit` counts as lost. `keepGoing` is asked
    /// about once a second and at every piece of data. Returns true when the
    /// server ended the stream, false when `keepGoing` said stop. An error
    /// answer throws ApiProblem, a lost connection Failure(Unreachable).
    bool stream(std::string_view path, const std::optional<std::string>& lastEventId,
                const std::function<void(std::string_view)>& onData, const std::function<bool()>& keepGoing,
                std::chrono::seconds silenceLimit);

    std::uint16_t port() const noexcept { return port_; }

private:
    ApiResponse perform(std::string_view path, const RequestBody* body, std::string_view progress, bool remove = false);
    [[noreturn]] void throwTransportFailure(CURLcode result) const;

    std::uint16_t port_;
    std::filesystem::path caFile_;
    CurlEasy curl_;
    std::array<char, CURL_ERROR_SIZE> errorText_{};  // libcurl's detail of the last failure
    CurlHeaders getHeaders_;
    CurlHeaders postHeaders_;
};

/// Percent-encodes one path segment (RFC 3986 §3.3): a card or certificate id
/// typed by the user can never add segments or a query to the request.
std::string pathSegment(std::string_view value);

}  // namespace inkan::cli
