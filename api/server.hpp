// inkan — the HTTPS server: TLS over loopback TCP, HTTP/1.1 keep-alive, one
// session per connection on its own strand. Adapts Beast messages to
// api::Request / api::Response and hands them to api::Api; decides nothing
// about content. This header stays free of Asio so main.cpp compiles fast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "api/handlers_documents.hpp"
#include "daemon/platform/peer_uid.hpp"

namespace inkan::api {

struct ServerOptions {
    std::uint16_t port = 24713;
    std::filesystem::path certificateFile;  // PEM leaf certificate
    std::filesystem::path privateKeyFile;   // PEM private key of the leaf

    std::chrono::seconds handshakeTimeout{10};
    std::chrono::seconds readTimeout{30};   // one whole request, and keep-alive idle time
    std::chrono::seconds writeTimeout{30};
    std::chrono::seconds closeTimeout{5};   // TLS close_notify exchange
    std::chrono::seconds drainTimeout{5};   // after the card work is done, for the last responses

    std::size_t headerLimit = 8 * 1024;
    std::size_t bodyLimit = 64 * 1024;
    /// The body limit of the one route that takes documents (POST
    /// /v1/cards/{cardId}/signatures, api/handlers_documents.hpp); chosen from
    /// the request line, so every other route keeps `bodyLimit`.
    std::size_t documentBodyLimit = kDocumentBodyLimit;
    /// Open connections at most. When full, the oldest connection that has not
    /// sent a request gives way to the newcomer; such connections never hold
    /// the last `reservedConnections` slots (api/connection_cap.hpp).
    std::size_t maxConnections = 64;
    std::size_t reservedConnections = 8;

    /// Who may connect: a connection whose peer socket belongs to another OS
    /// user than `user` is closed before TLS; root's too, unless allowRootClients
    /// (docs/security.md "Other users are refused at the door").
    platform::UserId user = platform::currentUser();
    bool allowRootClients = false;

    /// Listening sockets handed over by the service manager (socket
    /// activation, docs/service.md): served instead of binding `port`. Each
    /// must be a listening TCP socket on a loopback address.
    std::vector<int> inheritedSockets;

    /// Called on the I/O loop every `heartbeatInterval` (0: never), so that a
    /// hung loop stops calling it (the service manager's watchdog).
    std::chrono::milliseconds heartbeatInterval{0};
    std::function<void()> heartbeat;

    /// Stop after this long without an open connection (0: never). Every card
    /// operation and every event stream runs on an open connection, so none
    /// is cut short. Meant for socket activation: the next connection starts
    /// a fresh daemon.
    std::chrono::seconds idleExit{0};
};

/// The server could not start (TLS material unusable, port in use, ...).
/// The message is meant for the user as is.
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class HttpsServer {
public:
    /// Load the TLS material and bind 127.0.0.1 and [::1] (the latter only when
    /// the machine has IPv6 loopback), or take the inherited sockets. Throws
    /// StartupError, also when the peers' users cannot be told (no /proc) or an
    /// inherited socket is not a loopback TCP listener. Binding comes first so
    /// a daemon that cannot serve never touches a card.
    explicit HttpsServer(ServerOptions options);
    ~HttpsServer();
    HttpsServer(const HttpsServer&) = delete;
    HttpsServer& operator=(const HttpsServer&) = delete;

    /// Base URLs being served, e.g. "https://127.0.0.1:24713".
    std::vector<std::string> urls() const;

    /// The port served: options.port, or the inherited sockets' port.
    std::uint16_t port() const;

    /// Serve `api` until SIGTERM or SIGINT (or stop()). Then: stop accepting, run
    /// `drain` on its own thread (it must let running card operations finish),
    /// deliver their responses, close every connection. Returns the exit code:
    /// 0 after a requested stop or an idle exit, 1 when no listener could keep accepting.
    /// `api` must outlive run().
    int run(const Api& api, std::function<void()> drain);

    /// Ask run() to shut down as on SIGTERM. Thread-safe.
    void stop();

    /// Opaque; defined in server.cpp (public only so the connection classes there can name it).
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace inkan::api
