// inkan — the HTTP request and response as the API layer sees them.
//
// Deliberately free of Boost.Beast: the server (api/server.cpp) adapts Beast
// messages to these structs, and everything above it (gate, router, handlers,
// JSON mapping, problem+json) compiles in seconds and is tested without sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inkan::api {

/// Header fields of one message, in the order received or set.
/// Names compare case-insensitively (RFC 9110 §5.1). A name may occur more than
/// once; the gate refuses repeated fields it makes decisions on.
class Headers {
public:
    using Field = std::pair<std::string, std::string>;

    void add(std::string_view name, std::string_view value);
    /// Replace every field of that name with one field.
    void set(std::string_view name, std::string_view value);
    /// The first value of that name.
    std::optional<std::string_view> get(std::string_view name) const;
    std::size_t count(std::string_view name) const;
    const std::vector<Field>& fields() const noexcept { return fields_; }

private:
    std::vector<Field> fields_;
};

/// One request, fully read. The body may carry PINs: it is wiped when the
/// request dies, and the server wipes it as soon as the handler has parsed it.
struct Request {
    std::string method;  // as sent, e.g. "GET" (methods are case-sensitive, RFC 9110 §9.1)
    std::string target;  // request-target as sent; never echoed back to the client
    Headers headers;
    std::string body;
    /// The OS user (uid) owning the client's socket, as the server found it
    /// before admitting the connection (daemon/platform/peer_uid.hpp).
    std::optional<std::uint32_t> peerUser;

    Request() = default;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    /// Moving copies the body and wipes the source: a moved-from short string
    /// would otherwise keep its bytes in its inline buffer.
    Request(Request&& other) noexcept;
    Request& operator=(Request&& other) noexcept;
    ~Request() { wipeBody(); }

    /// The target without its query ("/v1/cards?x=1" -> "/v1/cards").
    std::string_view path() const noexcept;
    void wipeBody() noexcept;
};

/// A response body produced over time (the event stream, GET /v1/events).
///
/// The server sends the head, then asks next() for data whenever start()'s
/// `wake` was called or the connection has been silent for idleInterval(),
/// and writes what it gets as HTTP/1.1 chunks, one write at a time, until the
/// stream ends or the connection does. The connection closes afterwards.
/// start(), next() and stop() are called on the connection's strand, never
/// concurrently.
class ResponseStream {
public:
    virtual ~ResponseStream() = default;

    /// Once, after the head is written. `wake` may be called from any thread,
    /// any number of times, also after stop() (it then does nothing).
    virtual void start(std::function<void()> wake) = 0;

    struct Chunk {
        std::string data;  // to write now; empty: nothing at the moment
        bool end = false;  // the stream is over once `data` is written
    };
    /// What to write now; never blocks. `idle`: nothing was written for
    /// idleInterval(), so the stream should say something that keeps the
    /// connection (and the proxies and timeouts on the way) alive.
    virtual Chunk next(bool idle) = 0;

    virtual std::chrono::milliseconds idleInterval() const = 0;

    /// The connection ends: the stream ended, the client left, a write
    /// failed or the server stops. The last call; release resources here.
    virtual void stop() noexcept = 0;
};

struct Response {
    int status = 200;
    std::string contentType;  // empty when there is no body
    Headers headers;
    std::string body;
    /// Ask the server to close the connection after this response (the request
    /// could not be read completely, so the stream cannot be resynchronised).
    bool closeConnection = false;
    /// When set, the body is this stream instead of `body` (see ResponseStream).
    std::shared_ptr<ResponseStream> stream;
    /// The problem+json `code` of a refusal (problemResponse sets it), for the
    /// log's INKAN_CODE field; never sent.
    std::string problemCode;
};

/// How an answer travels back to the connection. Called exactly once, from any
/// thread: card completions run on card worker threads, so the server's
/// implementation hops back onto the connection's strand itself.
using Respond = std::function<void(Response)>;

/// Overwrite a string's bytes, then empty it.
void wipe(std::string& text) noexcept;

/// ASCII case-insensitive equality (header names, media types, host names).
bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

}  // namespace inkan::api
