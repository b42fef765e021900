#include "client-sdk/cli/api_client.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <unistd.h>

#include <openssl/crypto.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/problem.hpp"
#include "client-sdk/cli/request_body.hpp"
#include "inkan/version.hpp"

namespace inkan::cli {
namespace {

// The card may take a while (a real card signs in 1–3 s, a busy one queues),
// but an answer that never comes must not hang a script forever.
constexpr long kConnectTimeoutMs = 5'000;
constexpr long kRequestTimeoutMs = 180'000;
// No answer of the API comes near this; a bigger one is not inkand's.
constexpr std::size_t kMaxResponseBytes = 8 * 1024 * 1024;
constexpr auto kProgressDelay = std::chrono::seconds(1);

struct ReceiveState {
    std::string body;
    bool tooLarge = false;
};

size_t onReceive(char* data, size_t size, size_t count, void* user) noexcept
{
    auto* state = static_cast<ReceiveState*>(user);
    std::size_t bytes = size * count;
    if (state->body.size() + bytes > kMaxResponseBytes) {
        state->tooLarge = true;
        return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    state->body.append(data, bytes);
    return bytes;
}

struct StreamState {
    const std::function<void(std::string_view)>* onData = nullptr;
    const std::function<bool()>* keepGoing = nullptr;
    CURL* curl = nullptr;
    std::string errorBody;  // an error answer, kept whole for its problem description
    bool tooLarge = false;
};

size_t onStreamData(char* data, size_t size, size_t count, void* user) noexcept
{
    auto* state = static_cast<StreamState*>(user);
    const std::size_t bytes = size * count;
    long status = 0;
    curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) {
        if (state->errorBody.size() + bytes > kMaxResponseBytes) {
            state->tooLarge = true;
            return 0;
        }
        state->errorBody.append(data, bytes);
        return bytes;
    }
    try {
        (*state->onData)({data, bytes});
    } catch (...) {
        return 0;  // aborts the transfer; the command reports what it knows
    }
    return (*state->keepGoing)() ? bytes : 0;
}

int onStreamProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept
{
    // Called about once a second even when nothing arrives: the place to notice Ctrl-C.
    const auto* state = static_cast<StreamState*>(user);
    return (*state->keepGoing)() ? 0 : 1;
}

/// Prints `message` on stderr if it is still alive after kProgressDelay: fast
/// requests stay quiet, slow card operations say what the user waits for.
class DelayedNotice {
public:
    explicit DelayedNotice(std::string_view message)
    {
        if (message.empty()) return;
        worker_ = std::jthread([text = std::string(message) + "\n"](std::stop_token stop) {
            std::mutex mutex;
            std::condition_variable_any wakeUp;
            std::unique_lock lock(mutex);
            // Wakes up early only when the request is done (the stop request).
            wakeUp.wait_for(lock, stop, kProgressDelay, [] { return false; });
            if (!stop.stop_requested()) writeAll(STDERR_FILENO, text);
        });
    }
    // ~jthread requests the stop and joins: the notice never outlives the request.

private:
    std::jthread worker_;
};

template <typename T>
void setOption(CURL* curl, CURLoption option, T value)
{
    if (CURLcode result = curl_easy_setopt(curl, option, value); result != CURLE_OK) {
        throw Failure(ExitCode::LocalIo, std::string("libcurl refused an option: ") + curl_easy_strerror(result));
    }
}

bool isJsonType(std::string_view contentType, std::string_view expected)
{
    return contentType.substr(0, expected.size()) == expected
        && (contentType.size() == expected.size() || contentType[expected.size()] == ';');
}

}  // namespace

std::string pathSegment(std::string_view value)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string encoded;
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~';
        // "." and ".." are dot-segments a URL parser would resolve.
        if (unreserved && !(value == "." || value == "..")) {
            encoded += c;
        } else {
            encoded += '%';
            encoded += kHex[byte >> 4];
            encoded += kHex[byte & 0x0F];
        }
    }
    return encoded;
}

ApiClient::ApiClient(std::uint16_t port, std::filesystem::path caFile, const Secret& token)
    : port_(port), caFile_(std::move(caFile)), curl_(curl_easy_init())
{
    if (!curl_) throw Failure(ExitCode::LocalIo, "libcurl could not create a handle");
    CURL* curl = curl_.get();
    setOption(curl, CURLOPT_PROTOCOLS_STR, "https");
    setOption(curl, CURLOPT_FOLLOWLOCATION, 0L);
    setOption(curl, CURLOPT_PROXY, "");  // never send the token or a PIN through a proxy
    setOption(curl, CURLOPT_NOSIGNAL, 1L);
    setOption(curl, CURLOPT_CAINFO, caFile_.c_str());
    setOption(curl, CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // trust inkand's CA only
    setOption(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    setOption(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    setOption(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    setOption(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    setOption(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
    setOption(curl, CURLOPT_USERAGENT, (std::string("inkan/") + kVersion).c_str());
    setOption(curl, CURLOPT_WRITEFUNCTION, &onReceive);
    setOption(curl, CURLOPT_ERRORBUFFER, errorText_.data());

    std::string authorization;
    authorization.reserve(sizeof "Authorization: Bearer " + token.size());
    authorization.append("Authorization: Bearer ").append(token.view());
    for (CurlHeaders* headers : {&getHeaders_, &postHeaders_}) {
        headers->append(authorization);
        headers->append("Accept: application/json, application/problem+json");
    }
    OPENSSL_cleanse(authorization.data(), authorization.size());
    postHeaders_.append("Content-Type: application/json");
    // inkand refuses every request but GET without it (docs/security.md): a
    // custom header is what no HTML form can send.
    postHeaders_.append(std::string("Inkan-Client: inkan-cli/") + kVersion);
    postHeaders_.append("Expect:");  // bodies are small: no 100-continue round trip
}

ApiResponse ApiClient::get(std::string_view path, std::string_view progress)
{
    return perform(path, nullptr, progress);
}

ApiResponse ApiClient::post(std::string_view path, const RequestBody& body, std::string_view progress)
{
    return perform(path, &body, progress);
}

ApiResponse ApiClient::remove(std::string_view path, std::string_view progress)
{
    const RequestBody empty(nlohmann::json::object());
    return perform(path, &empty, progress, true);
}

ApiResponse ApiClient::perform(std::string_view path, const RequestBody* body, std::string_view progress, bool remove)
{
    CURL* curl = curl_.get();
    std::string url = "https://127.0.0.1:" + std::to_string(port_) + "/v1" + std::string(path);
    setOption(curl, CURLOPT_URL, url.c_str());
    setOption(curl, CURLOPT_CUSTOMREQUEST, remove ? "DELETE" : static_cast<const char*>(nullptr));
    if (body != nullptr) {
        // POSTFIELDS sends the caller's buffer without copying it (unlike COPYPOSTFIELDS).
        setOption(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->view().size()));
        setOption(curl, CURLOPT_POSTFIELDS, body->view().data());
        setOption(curl, CURLOPT_HTTPHEADER, postHeaders_.get());
    } else {
        setOption(curl, CURLOPT_HTTPGET, 1L);
        setOption(curl, CURLOPT_HTTPHEADER, getHeaders_.get());
    }
    ReceiveState received;
    errorText_.fill('\0');
    setOption(curl, CURLOPT_WRITEDATA, &received);

    CURLcode result;
    {
        DelayedNotice notice(progress);
        result = curl_easy_perform(curl);
    }
    setOption(curl, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
    if (body != nullptr) setOption(curl, CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));
    if (result == CURLE_WRITE_ERROR && received.tooLarge) {
        throw Failure(ExitCode::ApiError, "the answer from 127.0.0.1:" + std::to_string(port_) + " is larger than any answer of inkand");
    }
    if (result != CURLE_OK) throwTransportFailure(result);

    ApiResponse response;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    const char* contentType = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &contentType);
    std::string_view type = contentType != nullptr ? contentType : "";
    response.body = std::move(received.body);

    if (response.status >= 400) {
        if (isJsonType(type, "application/problem+json") || isJsonType(type, "application/json")) {
            throw ApiProblem(Problem::fromResponse(response.status, response.body));
        }
        throw Failure(ExitCode::ApiError, "HTTP " + std::to_string(response.status) + " from 127.0.0.1:" + std::to_string(port_)
                                              + " without a problem description",
                      "is the program on this port inkand?");
    }
    if (response.status == 204) return response;  // No Content (a revocation): nothing to parse
    if (!isJsonType(type, "application/json")) {
        throw Failure(ExitCode::ApiError, "127.0.0.1:" + std::to_string(port_) + " answered with " + std::string(type.empty() ? "no content type" : type)
                                              + " instead of JSON");
    }
    response.json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (response.json.is_discarded()) {
        throw Failure(ExitCode::ApiError, "inkand answered with malformed JSON");
    }
    return response;
}

bool ApiClient::stream(std::string_view path, const std::optional<std::string>& lastEventId,
                       const std::function<void(std::string_view)>& onData, const std::function<bool()>& keepGoing,
                       std::chrono::seconds silenceLimit)
{
    CURL* curl = curl_.get();
    const std::string url = "https://127.0.0.1:" + std::to_string(port_) + "/v1" + std::string(path);

    // The GET headers (token included) plus what a stream reader sends.
    CurlHeaders headers;
    for (const curl_slist* item = getHeaders_.get(); item != nullptr; item = item->next) {
        const std::string_view header(item->data);
        if (header.starts_with("Accept:")) continue;
        headers.append(std::string(header));
    }
    headers.append("Accept: text/event-stream");
    if (lastEventId) headers.append("Last-Event-ID: " + *lastEventId);

    StreamState state;
    state.onData = &onData;
    state.keepGoing = &keepGoing;
    state.curl = curl;
    errorText_.fill('\0');
    setOption(curl, CURLOPT_URL, url.c_str());
    setOption(curl, CURLOPT_HTTPGET, 1L);
    setOption(curl, CURLOPT_HTTPHEADER, headers.get());
    setOption(curl, CURLOPT_TIMEOUT_MS, 0L);  // a stream has no end to wait for
    setOption(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    setOption(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(silenceLimit.count()));
    setOption(curl, CURLOPT_WRITEFUNCTION, &onStreamData);
    setOption(curl, CURLOPT_WRITEDATA, &state);
    setOption(curl, CURLOPT_NOPROGRESS, 0L);
    setOption(curl, CURLOPT_XFERINFOFUNCTION, &onStreamProgress);
    setOption(curl, CURLOPT_XFERINFODATA, &state);

    const CURLcode result = curl_easy_perform(curl);

    // Back to what every other request expects.
    setOption(curl, CURLOPT_NOPROGRESS, 1L);
    setOption(curl, CURLOPT_XFERINFODATA, static_cast<void*>(nullptr));
    setOption(curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
    setOption(curl, CURLOPT_LOW_SPEED_TIME, 0L);
    setOption(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
    setOption(curl, CURLOPT_WRITEFUNCTION, &onReceive);
    setOption(curl, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
    setOption(curl, CURLOPT_HTTPHEADER, getHeaders_.get());

    if (!keepGoing()) return false;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400 && (result == CURLE_OK || result == CURLE_WRITE_ERROR) && !state.tooLarge) {
        throw ApiProblem(Problem::fromResponse(status, state.errorBody));
    }
    if (result == CURLE_OPERATION_TIMEDOUT) {
        throw Failure(ExitCode::Unreachable, "inkand on 127.0.0.1:" + std::to_string(port_) + " sent nothing for " +
                                                 std::to_string(silenceLimit.count()) + " s",
                      "see inkand's log; it may have stopped");
    }
    if (result != CURLE_OK) throwTransportFailure(result);
    return true;
}

void ApiClient::throwTransportFailure(CURLcode result) const
{
    std::string where = "127.0.0.1:" + std::to_string(port_);
    std::string reason = errorText_[0] != '\0' ? std::string(errorText_.data()) : curl_easy_strerror(result);
    switch (result) {
    case CURLE_COULDNT_CONNECT:
        throw Failure(ExitCode::Unreachable, "inkand is not running: nothing accepts connections on " + where,
                      "start it (`inkand`, or `systemctl --user start inkand`); if it listens on another port, pass --port");
    case CURLE_OPERATION_TIMEDOUT:
        throw Failure(ExitCode::Unreachable, "inkand on " + where + " did not answer in time (" + reason + ")",
                      "see inkand's log; restarting it releases a stuck card");
    case CURLE_PEER_FAILED_VERIFICATION:
        throw Failure(ExitCode::Unreachable,
                      "TLS not trusted: the server on " + where + " has a certificate that the local CA " + caFile_.string()
                          + " did not issue (" + reason + ")",
                      "the inkand on this port uses another state directory: pass its --state-dir (and --port), "
                      "or restart inkand so that it reissues its certificate");
    case CURLE_SSL_CACERT_BADFILE:
        throw Failure(ExitCode::Unreachable, "cannot load the local CA certificate " + caFile_.string() + " (" + reason + ")",
                      "remove the tls directory next to it and restart inkand to create a new CA");
    case CURLE_SSL_CONNECT_ERROR:
        // Also what inkand's refusal of another OS user looks like: it closes before TLS.
        throw Failure(ExitCode::Unreachable, "TLS handshake with " + where + " failed (" + reason + ")",
                      "inkand serves only the OS user it runs as (its log names the uid it refused): run inkan as "
                      "that user; or the program on this port is not inkand: pass the --port it listens on");
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        throw Failure(ExitCode::Unreachable, "inkand on " + where + " closed the connection (" + reason + ")",
                      "see inkand's log; it may have stopped");
    default:
        throw Failure(ExitCode::Unreachable, "cannot talk to inkand on " + where + ": " + reason);
    }
}

}  // namespace inkan::cli
