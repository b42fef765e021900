// The HTTPS server over real loopback sockets: TLS, keep-alive, limits,
// bind failures and the graceful shutdown that lets a card operation finish.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/unit/temp_dir.hpp"
#include "api/api.hpp"
#include "api/server.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/platform/peer_uid.hpp"
#include "daemon/service/event_bus.hpp"
#include "daemon/state.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace inkan::api;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kToken = "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";

/// Answers status at once; signs after a pause on its own thread, like a card worker.
class SlowCardAgent final : public CardAgent {
public:
    std::chrono::milliseconds signDelay{400};
    std::atomic<bool> shutdownCalled{false};
    std::promise<void> signStarted;

    ~SlowCardAgent() override { join(); }

    void status(Completion<AgentStatus> done) override { done(AgentStatus{false, {}}); }
    void cards(Completion<std::vector<CardSummary>> done) override { done(std::vector<CardSummary>{}); }
    // Card "x" exists with a fresh PIN, so a signature passes the PIN guard.
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        if (cardId != "x") return done(notHere());
        CardSummary card = testing::referenceCardSummary(cardId);
        CertificateSummary signing;
        signing.id = "sign";
        card.certificates.push_back(testing::withReferenceKey(signing));
        done(card);
    }
    void certificate(const std::string&, const std::string&, Completion<CertificateSummary> done) override
    {
        done(notHere());
    }
    void pinStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void verifyPin(const std::string&, const std::string&, PinInput, PinCheck, Completion<PinStatus> done) override { done(notHere()); }
    void changePin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(notHere()); }
    void unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(notHere()); }
    void sign(const std::string&, SignRequest, PinCheck, Completion<SignResult> done) override
    {
        worker_ = std::thread([this, done = std::move(done)] {
            signStarted.set_value();
            std::this_thread::sleep_for(signDelay);
            done(SignResult{{1, 2, 3}, "RSASSA-PKCS1-v1_5-SHA-256", "sign", {4, 5}});
        });
    }
    void endPinVerification(const std::string&, Completion<std::monostate> done) override { done(notHere()); }
    void shutdown() override
    {
        shutdownCalled = true;
        join();  // let the running operation finish
    }

private:
    static std::exception_ptr notHere() { return std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no card")); }
    void join()
    {
        if (worker_.joinable()) worker_.join();
    }
    std::thread worker_;
};

std::uint16_t freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

using inkan::test::TempDir;

using SslCtxPtr = ossl::Ptr<SSL_CTX, SSL_CTX_free>;

/// A running server on a free port, with its own TLS material.
struct RunningServer {
    TempDir dir;
    state::StatePaths paths;
    std::uint16_t port = freePort();
    SlowCardAgent agent;
    service::EventBus bus;
    std::unique_ptr<Api> api;
    std::unique_ptr<HttpsServer> server;
    std::future<int> exitCode;

    /// `adjust` may change the server's options (limits, who may connect).
    explicit RunningServer(const std::function<void(ServerOptions&)>& adjust = {})
    {
        // The test client writes to sockets the server may already have closed (as inkand's main does).
        std::signal(SIGPIPE, SIG_IGN);
        paths = state::prepareStateDir(dir.path / "state");
        state::ensureTlsMaterial(paths);
        GateOptions gate;
        gate.port = port;
        gate.token = Secret(kToken);
        api = std::make_unique<Api>(agent, std::move(gate), "test", &bus);
        ServerOptions options;
        options.port = port;
        options.certificateFile = paths.serverCertificate;
        options.privateKeyFile = paths.serverKey;
        if (adjust) adjust(options);
        server = std::make_unique<HttpsServer>(std::move(options));
        exitCode = std::async(std::launch::async, [this] { return server->run(*api, [this] { agent.shutdown(); }); });
    }

    ~RunningServer()
    {
        if (exitCode.valid()) {
            server->stop();
            exitCode.wait();
        }
    }

    int stopAndWait()
    {
        server->stop();
        REQUIRE(exitCode.wait_for(10s) == std::future_status::ready);
        return exitCode.get();
    }

    /// Send `raw` over TLS (verifying the server against the local CA) and read until the server closes.
    std::string exchange(const std::string& raw, int maxTlsVersion = 0)
    {
        SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
        REQUIRE(context);
        REQUIRE(SSL_CTX_load_verify_locations(context.get(), paths.caCertificate.c_str(), nullptr) == 1);
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
        if (maxTlsVersion) {
            SSL_CTX_set_min_proto_version(context.get(), TLS1_VERSION);
            SSL_CTX_set_max_proto_version(context.get(), maxTlsVersion);
            SSL_CTX_set_security_level(context.get(), 0);
        }
        ossl::BioPtr bio(BIO_new_ssl_connect(context.get()));
        REQUIRE(bio);
        SSL* ssl = nullptr;
        BIO_get_ssl(bio.get(), &ssl);
        SSL_set1_host(ssl, "127.0.0.1");
        const std::string target = "127.0.0.1:" + std::to_string(port);
        BIO_set_conn_hostname(bio.get(), target.c_str());
        if (BIO_do_connect(bio.get()) != 1) {
            ERR_clear_error();
            return "connect failed";
        }
        if (BIO_write(bio.get(), raw.data(), static_cast<int>(raw.size())) != static_cast<int>(raw.size())) {
            ERR_clear_error();
            return "write failed";
        }
        std::string reply;
        char buffer[4096];
        while (true) {
            const int n = BIO_read(bio.get(), buffer, sizeof buffer);
            if (n <= 0) break;
            reply.append(buffer, static_cast<std::size_t>(n));
        }
        ERR_clear_error();
        return reply;
    }

    std::string request(const std::string& method, const std::string& target, const std::string& body = {},
                        const std::string& connection = "close")
    {
        std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nAuthorization: Bearer " + std::string(kToken) + "\r\nConnection: " + connection + "\r\n";
        if (!body.empty() || method == "POST") {
            raw += "Content-Type: application/json\r\nInkan-Client: inkan-tests\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n";
        }
        return raw + "\r\n" + body;
    }
};

std::size_t countOf(const std::string& text, const std::string& part)
{
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
    return count;
}

/// A TLS client that reads a response as it arrives (the event stream).
class StreamingClient {
public:
    StreamingClient(const RunningServer& server, const std::string& raw)
    {
        context_.reset(SSL_CTX_new(TLS_client_method()));
        REQUIRE(context_);
        REQUIRE(SSL_CTX_load_verify_locations(context_.get(), server.paths.caCertificate.c_str(), nullptr) == 1);
        SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
        bio_.reset(BIO_new_ssl_connect(context_.get()));
        REQUIRE(bio_);
        BIO_get_ssl(bio_.get(), &ssl_);
        SSL_set1_host(ssl_, "127.0.0.1");
        const std::string target = "127.0.0.1:" + std::to_string(server.port);
        BIO_set_conn_hostname(bio_.get(), target.c_str());
        REQUIRE(BIO_do_connect(bio_.get()) == 1);
        REQUIRE(BIO_write(bio_.get(), raw.data(), static_cast<int>(raw.size())) == static_cast<int>(raw.size()));
    }

    /// Reads until `part` has arrived (true), the server closed or `timeout` passed (false).
    bool readUntil(const std::string& part, std::chrono::milliseconds timeout = 5s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int fd = -1;
        BIO_get_fd(bio_.get(), &fd);
        while (received.find(part) == std::string::npos) {
            if (SSL_pending(ssl_) == 0) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
                pollfd readable{fd, POLLIN, 0};
                if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) return false;
            }
            char buffer[4096];
            const int n = BIO_read(bio_.get(), buffer, sizeof buffer);
            if (n <= 0) {
                ERR_clear_error();
                closed = true;
                return received.find(part) != std::string::npos;
            }
            received.append(buffer, static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Another request on the same connection.
    void send(const std::string& raw)
    {
        REQUIRE(BIO_write(bio_.get(), raw.data(), static_cast<int>(raw.size())) == static_cast<int>(raw.size()));
    }

    void close() { bio_.reset(); }

    std::string received;
    bool closed = false;

private:
    SslCtxPtr context_;
    ossl::BioPtr bio_;
    SSL* ssl_ = nullptr;
};

/// A plain TCP connection to the server that sends `bytes` (maybe none) and then stays silent.
class SilentClient {
public:
    SilentClient(std::uint16_t port, const std::string& bytes = {}) : fd_(::socket(AF_INET, SOCK_STREAM, 0))
    {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        if (!bytes.empty()) REQUIRE(::send(fd_, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    }
    ~SilentClient() { ::close(fd_); }
    SilentClient(const SilentClient&) = delete;
    SilentClient& operator=(const SilentClient&) = delete;

    /// Whether the server has closed the connection (within `timeout`).
    bool closedByServer(std::chrono::milliseconds timeout = 2s)
    {
        pollfd readable{fd_, POLLIN, 0};
        if (::poll(&readable, 1, static_cast<int>(timeout.count())) <= 0) return false;
        char byte = 0;
        return ::recv(fd_, &byte, 1, MSG_DONTWAIT) <= 0;
    }

private:
    int fd_;
};

// The first bytes of a TLS ClientHello (RFC 8446 §5.1, §4.1.2): a handshake
// record announcing 512 bytes, of which only the handshake header follows.
const std::string kPartialClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

const std::string kSignBody = R"({"digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","digestAlgorithm":"SHA-256","pin":"1234"})";

}  // namespace

TEST_SUITE("api server")
{
    TEST_CASE("a request over TLS gets its JSON answer with the security headers")
    {
        RunningServer s;
        const std::string reply = s.exchange(s.request("GET", "/v1/status"));
        CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
        CHECK(reply.find("Content-Type: application/json\r\n") != std::string::npos);
        CHECK(reply.find("Cache-Control: no-store\r\n") != std::string::npos);
        CHECK(reply.find(R"("pcscAvailable":false)") != std::string::npos);
        CHECK(s.stopAndWait() == 0);
    }

    TEST_CASE("one connection serves several requests (keep-alive)")
    {
        RunningServer s;
        const std::string reply =
            s.exchange(s.request("GET", "/v1/status", {}, "keep-alive") + s.request("GET", "/v1/cards", {}, "keep-alive") +
                       s.request("GET", "/v1/status"));
        CHECK(countOf(reply, "HTTP/1.1 200 OK") == 3);
    }

    TEST_CASE("a body over 64 KiB is PAYLOAD_TOO_LARGE and the connection closes")
    {
        RunningServer s;
        const std::string reply = s.exchange(s.request("POST", "/v1/cards/x/sign", std::string(65 * 1024 + 1, ' '), "keep-alive"));
        CAPTURE(reply);
        CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(reply.find(R"("code":"PAYLOAD_TOO_LARGE")") != std::string::npos);
        CHECK(reply.find("Connection: close") != std::string::npos);
    }

    TEST_CASE("the document route has its own body limit, chosen before the body is read")
    {
        RunningServer s;
        // 1 MiB is read on POST .../signatures (and then found not to be JSON) ...
        const std::string body(1024 * 1024, ' ');
        const std::string document = s.exchange(s.request("POST", "/v1/cards/x/signatures", body));
        CAPTURE(document.substr(0, 200));
        CHECK(document.rfind("HTTP/1.1 400", 0) == 0);
        CHECK(document.find(R"("code":"BAD_REQUEST")") != std::string::npos);
        // ... but not on any other route (this body is over 64 KiB and small enough to be
        // sent whole before the server closes the connection).
        const std::string over(65 * 1024 + 1, ' ');
        CHECK(s.exchange(s.request("POST", "/v1/cards/x/sign", over)).rfind("HTTP/1.1 413", 0) == 0);
        CHECK(s.exchange(s.request("POST", "/v1/cards/x/signatures/x", over)).rfind("HTTP/1.1 413", 0) == 0);
        // A declared length over the document limit is answered without waiting for the body.
        const std::string raw = "POST /v1/cards/x/signatures HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) +
                                "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(kDocumentBodyLimit + 1) + "\r\n\r\n";
        const std::string refused = s.exchange(raw);
        CAPTURE(refused);
        CHECK(refused.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(refused.find("Connection: close") != std::string::npos);
        CHECK(takesDocument("POST", "/v1/cards/abc/signatures"));
        CHECK_FALSE(takesDocument("GET", "/v1/cards/abc/signatures"));
        CHECK_FALSE(takesDocument("POST", "/v1/cards//signatures"));
        CHECK_FALSE(takesDocument("POST", "/v1/cards/a/b/signatures"));
    }

    TEST_CASE("a header over 8 KiB is BAD_REQUEST")
    {
        RunningServer s;
        std::string raw = s.request("GET", "/v1/status");
        raw.insert(raw.find("\r\n") + 2, "X-Padding: " + std::string(9 * 1024, 'a') + "\r\n");
        const std::string reply = s.exchange(raw);
        CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
        CHECK(reply.find(R"("code":"BAD_REQUEST")") != std::string::npos);
    }

    TEST_CASE("malformed HTTP is BAD_REQUEST and the target is not echoed")
    {
        RunningServer s;
        const std::string reply = s.exchange("GET /<script> HTTP/9.9\r\n\r\n");
        CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
        CHECK(reply.find("script") == std::string::npos);
    }

    TEST_CASE("a HEAD answer carries no content and closes the connection")
    {
        RunningServer s;
        const std::string reply = s.exchange(s.request("HEAD", "/v1/status", {}, "keep-alive") + s.request("GET", "/v1/status"));
        CHECK(countOf(reply, "HTTP/1.1 ") == 1);
        CHECK(reply.find("Connection: close") != std::string::npos);
        CHECK(reply.find("{") == std::string::npos);
    }

    TEST_CASE("an event stream sends its head at once, then every event as a chunk when it is published")
    {
        RunningServer s;
        StreamingClient client(s, s.request("GET", "/v1/events", {}, "keep-alive"));
        REQUIRE(client.readUntil("retry: 2000\n"));
        CHECK(client.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
        CHECK(client.received.find("Content-Type: text/event-stream\r\n") != std::string::npos);
        CHECK(client.received.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
        CHECK(client.received.find("Connection: close\r\n") != std::string::npos);
        CHECK(client.received.find("Cache-Control: no-store\r\n") != std::string::npos);

        for (int i = 0; i < 3; ++i) {
            const auto id = s.bus.publish("reader-added", {{"reader", "Reader " + std::to_string(i)}});
            CHECK(client.readUntil("id: " + std::to_string(id) + "\nevent: reader-added\ndata: {\"reader\":\"Reader " +
                                   std::to_string(i) + "\"}\n\n"));
        }
        CHECK_FALSE(client.closed);
    }

    TEST_CASE("a client that leaves the event stream is unsubscribed right away")
    {
        RunningServer s;
        StreamingClient client(s, s.request("GET", "/v1/events", {}, "keep-alive"));
        REQUIRE(client.readUntil("retry: 2000\n"));
        CHECK(s.bus.subscriberCount() == 1);
        client.close();
        CHECK(eventually([&] { return s.bus.subscriberCount() == 0; }));
    }

    TEST_CASE("stopping the server ends the event streams with the last chunk and exits 0")
    {
        RunningServer s;
        StreamingClient first(s, s.request("GET", "/v1/events", {}, "keep-alive"));
        StreamingClient second(s, s.request("GET", "/v1/events", {}, "keep-alive"));
        REQUIRE(first.readUntil("retry: 2000\n"));
        REQUIRE(second.readUntil("retry: 2000\n"));
        const auto started = std::chrono::steady_clock::now();
        CHECK(s.stopAndWait() == 0);
        CHECK(std::chrono::steady_clock::now() - started < 3s);
        CHECK(first.readUntil("\r\n0\r\n\r\n"));
        CHECK(second.readUntil("\r\n0\r\n\r\n"));
        CHECK(s.bus.subscriberCount() == 0);
    }

    TEST_CASE("TLS below 1.2 is refused")
    {
        RunningServer s;
        CHECK(s.exchange(s.request("GET", "/v1/status"), TLS1_1_VERSION) == "connect failed");
    }

    TEST_CASE("stopping lets the running card operation finish and answers it, then exits 0")
    {
        RunningServer s;
        auto reply = std::async(std::launch::async, [&] { return s.exchange(s.request("POST", "/v1/cards/x/sign", kSignBody)); });
        REQUIRE(s.agent.signStarted.get_future().wait_for(5s) == std::future_status::ready);
        s.server->stop();
        REQUIRE(reply.wait_for(10s) == std::future_status::ready);
        const std::string answer = reply.get();
        CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
        CHECK(answer.find(R"("signature":"AQID")") != std::string::npos);
        REQUIRE(s.exitCode.wait_for(10s) == std::future_status::ready);
        CHECK(s.exitCode.get() == 0);
        CHECK(s.agent.shutdownCalled);
    }

    TEST_CASE("stopping closes idle keep-alive connections instead of waiting for them")
    {
        RunningServer s;
        // A client that connects and stays silent.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(s.port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        std::this_thread::sleep_for(100ms);
        const auto started = std::chrono::steady_clock::now();
        CHECK(s.stopAndWait() == 0);
        CHECK(std::chrono::steady_clock::now() - started < 3s);
        ::close(fd);
    }

    TEST_CASE("a connection of another OS user is closed before TLS; root's only when allowed")
    {
        {
            // This process is not the user the server serves.
            RunningServer s([](ServerOptions& options) { options.user = platform::currentUser() + 1; });
            CHECK(s.exchange(s.request("GET", "/v1/status")) == "connect failed");
        }
        if (platform::isAdministrator(platform::currentUser())) {
            RunningServer refused([](ServerOptions& options) { options.user = 4242; });
            CHECK(refused.exchange(refused.request("GET", "/v1/status")) == "connect failed");
            RunningServer allowed([](ServerOptions& options) {
                options.user = 4242;
                options.allowRootClients = true;
            });
            CHECK(allowed.exchange(allowed.request("GET", "/v1/status")).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
        }
        RunningServer own;
        CHECK(own.exchange(own.request("GET", "/v1/status")).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    }

    TEST_CASE("idle connections and unfinished TLS handshakes give way to a client when the server is full")
    {
        RunningServer s([](ServerOptions& options) {
            options.maxConnections = 8;
            options.reservedConnections = 2;
        });
        std::vector<std::unique_ptr<SilentClient>> idle;
        for (int i = 0; i < 10; ++i) idle.push_back(std::make_unique<SilentClient>(s.port));
        for (int i = 0; i < 10; ++i) idle.push_back(std::make_unique<SilentClient>(s.port, kPartialClientHello));
        CHECK(s.exchange(s.request("GET", "/v1/status")).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
        // The oldest gave way, the newest are still open.
        CHECK(idle.front()->closedByServer());
        CHECK_FALSE(idle.back()->closedByServer(100ms));
    }

    TEST_CASE("a connection that has sent a request keeps its slot; when all do, the newcomer is refused")
    {
        RunningServer s([](ServerOptions& options) {
            options.maxConnections = 2;
            options.reservedConnections = 1;
        });
        StreamingClient first(s, s.request("GET", "/v1/status", {}, "keep-alive"));
        REQUIRE(first.readUntil("\r\n\r\n"));
        std::vector<std::unique_ptr<SilentClient>> idle;
        for (int i = 0; i < 5; ++i) idle.push_back(std::make_unique<SilentClient>(s.port));
        first.send(s.request("GET", "/v1/cards", {}, "keep-alive"));
        CHECK(first.readUntil("\"cards\""));
        StreamingClient second(s, s.request("GET", "/v1/status", {}, "keep-alive"));
        REQUIRE(second.readUntil("\r\n\r\n"));
        // Both slots serve clients now: a third is refused at once (before TLS).
        CHECK(s.exchange(s.request("GET", "/v1/status")) == "connect failed");
        for (auto& client : idle) CHECK(client->closedByServer());
    }

    TEST_CASE("a port in use is a clear start-up error")
    {
        RunningServer s;
        ServerOptions options;
        options.port = s.port;
        options.certificateFile = s.paths.serverCertificate;
        options.privateKeyFile = s.paths.serverKey;
        try {
            HttpsServer second(std::move(options));
            FAIL("a second server bound the same port");
        } catch (const StartupError& e) {
            CHECK(std::string(e.what()).find("port " + std::to_string(s.port) + " in use") != std::string::npos);
        }
    }

    TEST_CASE("unusable TLS files are a clear start-up error")
    {
        TempDir dir;
        ServerOptions options;
        options.port = freePort();
        options.certificateFile = dir.path / "missing.pem";
        options.privateKeyFile = dir.path / "missing-key.pem";
        CHECK_THROWS_AS(HttpsServer(std::move(options)), StartupError);
    }
}
