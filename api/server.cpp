// inkan — HTTPS server on Boost.Beast/Asio (see server.hpp).
//
// Structure after Beast's advanced server examples: a listener per address
// accepting onto a fresh strand, one Session object per connection with paired
// doX/onX steps, a timeout set before every handshake, read, write and
// shutdown, and a fresh parser with header and body limits per message.
// Requests are served one at a time per connection (no pipelining): the next
// read starts after the response is written. A streamed response
// (Response::stream, the event stream) is the connection's last: its chunks
// are written as the stream produces them, and the connection closes after it.
//
// Before a connection gets a session, the listener asks who opened it: a peer
// of another OS user is closed before TLS (docs/security.md "Other users are
// refused at the door"); then the connection cap decides (api/connection_cap.hpp).
#include "api/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "api/connection_cap.hpp"
#include "api/handlers_documents.hpp"
#include "api/log.hpp"
#include "daemon/platform/peer_uid.hpp"

namespace inkan::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr int kHttp11 = 11;

// TLS 1.2 suites for our ECDSA P-256 key: ECDHE (forward secrecy) with AEAD
// ciphers only, as RFC 9325 §4.2 recommends. TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305";

// Accept errors other than a client's aborted handshake are retried with a
// doubling pause; after this many in a row the listener gives up rather than
// spinning (e.g. the process is out of file descriptors for good).
constexpr int kMaxConsecutiveAcceptFailures = 10;
constexpr std::chrono::milliseconds kFirstAcceptRetryDelay{100};
constexpr std::chrono::milliseconds kMaxAcceptRetryDelay{3200};
constexpr std::chrono::milliseconds kDrainPollInterval{50};
// How often the idle exit looks whether a connection is open.
constexpr std::chrono::milliseconds kIdleCheckInterval{250};

// After refusing a request we did not read completely (too large, malformed),
// the rest of it is read and dropped for a moment before closing: closing a
// socket with unread input sends a TCP reset, which can destroy our answer
// before the client has read it (RFC 9112 §9.6 "tear-down").
// Lingering ends when the client is silent for a moment, at the latest after
// the total time or amount.
constexpr std::chrono::milliseconds kLingerIdle{300};
constexpr std::chrono::milliseconds kLingerTotal{2000};
constexpr std::size_t kLingerMaxBytes = 1024 * 1024;

std::string describe(const beast::error_code& ec) { return ec.message(); }

bool isHttpParseError(const beast::error_code& ec)
{
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

/// The card id of a /v1/cards/{cardId}/... path, for the log; empty for other paths.
std::string cardOfPath(std::string_view path)
{
    constexpr std::string_view kCardsPrefix = "/v1/cards/";
    if (!path.starts_with(kCardsPrefix)) return {};
    path.remove_prefix(kCardsPrefix.size());
    return std::string(path.substr(0, path.find('/')));
}

// A chosen victim may send its first request just before it learns of its
// eviction and then stays; the choice is made again, this many times at most.
constexpr int kEvictionAttempts = 3;

platform::TcpEndpoint plain(const tcp::endpoint& endpoint)
{
    const auto address = endpoint.address();
    if (address.is_v4()) return platform::TcpEndpoint::v4(address.to_v4().to_bytes(), endpoint.port());
    return platform::TcpEndpoint::v6(address.to_v6().to_bytes(), endpoint.port());
}

}  // namespace

class Session;
class Listener;

struct HttpsServer::Impl {
    explicit Impl(ServerOptions options_) : options(std::move(options_)) {}

    void loadTls();
    void listen(const std::string& address, bool optional);
    void adopt(int nativeSocket);
    void scheduleHeartbeat();
    void scheduleIdleCheck();
    void beginShutdown();
    void pollDrain(std::chrono::steady_clock::time_point deadline);
    void listenerGaveUp();
    bool makeRoom(const std::string& where);
    void track(const std::shared_ptr<Session>& session);
    void stopSessions();
    void waitForSignal();

    const Api* api = nullptr;  // set by run(), before the first connection
    ServerOptions options;
    std::function<void()> drain;

    // Declared before the io_context so they outlive every session it may
    // still hold while being destroyed.
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> shuttingDown{false};
    int exitCode = 0;
    std::size_t failedListeners = 0;
    std::mutex sessionsMutex;
    std::vector<std::weak_ptr<Session>> sessions;
    ssl::context tls{ssl::context::tls_server};

    net::io_context ioc{1};
    net::signal_set signals{ioc};
    net::steady_timer drainTimer{ioc};
    net::steady_timer heartbeatTimer{ioc};
    net::steady_timer idleTimer{ioc};
    std::chrono::steady_clock::time_point lastBusy = std::chrono::steady_clock::now();
    std::uint16_t port = 0;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> drainGuard;
    std::vector<std::shared_ptr<Listener>> listeners;
    std::vector<std::string> urls;
    std::thread drainThread;
};

// ---------------------------------------------------------------------------

/// One TLS connection: handshake, then request/response until the client or
/// the server closes.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(HttpsServer::Impl& server, tcp::socket&& socket, platform::UserId peerUser)
        : server_(server), strand_(socket.get_executor()), stream_(std::move(socket), server.tls), idleTimer_(strand_),
          peerUser_(peerUser)
    {
        ++server_.connections;
    }

    /// For the connection cap, from the listener's strand.
    OpenConnection openConnection() const { return {accepted_, standing_.load() == Standing::Established}; }
    bool evicted() const { return standing_.load() == Standing::Evicted; }

    /// From the listener's strand: close this connection for a newcomer, if it
    /// still has sent no request. False when it just has (it stays).
    bool evict()
    {
        Standing expected = Standing::Pending;
        if (!standing_.compare_exchange_strong(expected, Standing::Evicted)) return false;
        net::post(strand_, [self = shared_from_this()] { self->closeSocket(); });
        return true;
    }

    ~Session()
    {
        stopResponseStream();
        if (request_) request_->wipeBody();
        OPENSSL_cleanse(lingerBuffer_.data(), lingerBuffer_.size());  // may hold the tail of a refused body
        --server_.connections;
    }

    void start()
    {
        // Run on the connection's strand from the first step on.
        net::dispatch(strand_, beast::bind_front_handler(&Session::doHandshake, shared_from_this()));
    }

    /// Server shutdown: finish the exchange in progress, then close; an idle
    /// connection (waiting for a request) is closed right away.
    void stop()
    {
        net::post(strand_, [self = shared_from_this()] {
            self->stopping_ = true;
            if (self->phase_ == Phase::Handshake || self->phase_ == Phase::Reading) {
                beast::get_lowest_layer(self->stream_).cancel();
            }
            if (self->phase_ == Phase::Streaming) self->pumpStream(false);  // ends it
        });
    }

private:
    enum class Phase { Handshake, Reading, Handling, Writing, Streaming, Closing };
    // Pending until the first request has arrived; the listener's strand reads it.
    enum class Standing { Pending, Established, Evicted };

    /// The first request has arrived: the connection can no longer be evicted.
    /// False when it was evicted already (its socket is being closed).
    bool establish()
    {
        Standing expected = Standing::Pending;
        return standing_.compare_exchange_strong(expected, Standing::Established) || expected == Standing::Established;
    }

    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    void doHandshake()
    {
        phase_ = Phase::Handshake;
        tcp().expires_after(server_.options.handshakeTimeout);
        stream_.async_handshake(ssl::stream_base::server,
                                beast::bind_front_handler(&Session::onHandshake, shared_from_this()));
    }

    void onHandshake(beast::error_code ec)
    {
        if (evicted()) return;  // closed for a newcomer; nothing to report
        if (ec) {
            // Typical: a client that does not trust our CA, or plain HTTP on the TLS port.
            if (ec != net::error::operation_aborted && ec != beast::error::timeout) {
                log::info("TLS handshake failed: " + describe(ec));
            }
            return;  // the socket closes with the session
        }
        doRead();
    }

    void doRead()
    {
        if (stopping_) return doClose();
        phase_ = Phase::Reading;
        // A fresh parser per message, so limits and state never carry over.
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.headerLimit));
        // The route's limit is known only with the request line: the header is
        // read under the largest one, then the body under the route's own.
        bodyLimit_ = std::max(server_.options.bodyLimit, server_.options.documentBodyLimit);
        parser_->body_limit(bodyLimit_);
        tcp().expires_after(server_.options.readTimeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::onHeader, shared_from_this()));
    }

    /// The body limit of the request's route (api/handlers_documents.hpp): a
    /// declared length over it is refused before any of the body is read.
    void onHeader(beast::error_code ec, std::size_t bytes)
    {
        if (ec) return onRead(ec, bytes);
        const auto& message = parser_->get();
        const std::string_view target = view(message.target());
        const std::string_view path = target.substr(0, target.find('?'));
        bodyLimit_ = takesDocument(view(message.method_string()), path) ? server_.options.documentBodyLimit
                                                                        : server_.options.bodyLimit;
        const auto declared = parser_->content_length();
        if (declared && *declared > bodyLimit_) {
            if (!establish()) return;
            return rejectTooLarge();
        }
        parser_->body_limit(bodyLimit_);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, shared_from_this()));
    }

    void rejectTooLarge()
    {
        reject(Error(ErrorCode::PayloadTooLarge, "the request body is larger than " + std::to_string(bodyLimit_ / 1024) + " KiB"));
    }

    void onRead(beast::error_code ec, std::size_t)
    {
        // Whatever arrived, a connection evicted for a newcomer serves no request.
        if (!establish()) return;
        if (ec == http::error::end_of_stream) return doClose();  // the client closed between requests
        if (ec == http::error::body_limit) return rejectTooLarge();
        if (ec == http::error::header_limit) {
            return reject(Error(ErrorCode::BadRequest, "the request header is larger than " +
                                                           std::to_string(server_.options.headerLimit / 1024) +
                                                           " KiB"));
        }
        if (ec == http::error::partial_message) return;  // the client went away mid-request
        if (ec && isHttpParseError(ec)) return reject(Error(ErrorCode::BadRequest, "malformed HTTP request"));
        if (ec == net::error::operation_aborted) {
            if (stopping_) doClose();
            return;
        }
        // ssl::error::stream_truncated: the peer closed without TLS close_notify.
        // HTTP messages are self-delimiting (a cut-off message is partial_message
        // above), so this only ends an idle connection and is not an attack.
        if (ec == ssl::error::stream_truncated || ec == beast::error::timeout) return;
        if (ec) {
            log::info("read failed: " + describe(ec));
            return;
        }
        handle();
    }

    /// Move the parsed message into an api::Request. Bodies may hold PINs:
    /// Beast's copy and the connection buffer are overwritten here.
    void takeRequest(bool withBody)
    {
        auto& message = parser_->get();
        request_.emplace();
        request_->peerUser = peerUser_;
        request_->method = std::string(view(message.method_string()));
        request_->target = std::string(view(message.target()));
        for (const auto& field : message) request_->headers.add(view(field.name_string()), view(field.value()));
        std::string& body = message.body();
        if (withBody) {
            request_->body.reserve(body.size());
            request_->body.assign(body);
        }
        wipe(body);
        wipeConsumedInput();
        keepAlive_ = message.keep_alive();
        isHead_ = message.method() == http::verb::head;
        logMethod_ = log::sanitize(request_->method, 16);
        logPath_ = log::sanitize(request_->path());
        logFields_ = {};
        logFields_.card = cardOfPath(logPath_);
        if (const auto origin = request_->headers.get("Origin")) logFields_.origin = log::sanitize(*origin);
        started_ = std::chrono::steady_clock::now();
    }

    /// Overwrite the read buffer once every byte of it has been parsed (with
    /// pipelined input the next request is still in it, and stays).
    void wipeConsumedInput()
    {
        if (buffer_.size() != 0 || buffer_.capacity() == 0) return;
        const auto space = buffer_.prepare(buffer_.capacity());
        OPENSSL_cleanse(space.data(), space.size());
    }

    void handle()
    {
        phase_ = Phase::Handling;
        takeRequest(true);
        // No socket I/O while the card works (a signature may wait for the
        // card's worker); the timer restarts for the write.
        tcp().expires_never();
        server_.api->handle(*request_, [self = shared_from_this()](Response response) {
            // Possibly on a card worker thread: hop back onto this connection's strand.
            net::post(self->strand_, [self, response = std::move(response)]() mutable {
                self->respond(std::move(response));
            });
        });
        // handle() has read the body; nothing keeps it past this point.
        request_->wipeBody();
    }

    /// Answer a request that could not be read completely, then close.
    void reject(const Error& error)
    {
        phase_ = Phase::Handling;
        takeRequest(false);
        keepAlive_ = false;
        unreadInput_ = true;
        respond(server_.api->reject(*request_, error));
    }

    void respond(Response response)
    {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
        if (const auto id = response.headers.get("X-Request-Id")) logFields_.requestId = log::sanitize(*id);
        logFields_.code = response.problemCode;
        log::info(logMethod_ + " " + logPath_ + " " + std::to_string(response.status) + " " +
                  std::to_string(elapsed.count()) + "ms", logFields_);
        request_.reset();

        if (response.stream && !isHead_) return startStream(std::move(response));

        phase_ = Phase::Writing;
        auto& message = response_.emplace();
        message.version(kHttp11);
        message.result(static_cast<unsigned>(response.status));
        for (const auto& [name, value] : response.headers.fields()) message.insert(name, value);
        if (!response.contentType.empty()) message.set(http::field::content_type, response.contentType);
        // A HEAD answer has no content (RFC 9110 §9.3.2); without a length to
        // announce, the connection closes after it.
        const bool keepAlive = keepAlive_ && !response.closeConnection && !stopping_ && !isHead_;
        if (!isHead_) message.body() = std::move(response.body);
        message.keep_alive(keepAlive);
        if (!isHead_) message.prepare_payload();

        tcp().expires_after(server_.options.writeTimeout);
        http::async_write(stream_, message, beast::bind_front_handler(&Session::onWrite, shared_from_this(), keepAlive));
    }

    void onWrite(bool keepAlive, beast::error_code ec, std::size_t)
    {
        response_.reset();
        if (ec) {
            if (ec != ssl::error::stream_truncated && ec != beast::error::timeout) log::info("write failed: " + describe(ec));
            return;
        }
        if (!keepAlive) return unreadInput_ ? doLinger() : doClose();
        doRead();
    }

    // --- Streamed responses ---------------------------------------------------

    void startStream(Response response)
    {
        phase_ = Phase::Streaming;
        responseStream_ = std::move(response.stream);
        auto& head = streamHead_.emplace();
        head.version(kHttp11);
        head.result(static_cast<unsigned>(response.status));
        for (const auto& [name, value] : response.headers.fields()) head.insert(name, value);
        if (!response.contentType.empty()) head.set(http::field::content_type, response.contentType);
        head.keep_alive(false);
        head.chunked(true);  // RFC 9112 §7.1: the length is not known in advance
        streamSerializer_.emplace(head);
        tcp().expires_after(server_.options.writeTimeout);
        http::async_write_header(stream_, *streamSerializer_,
                                 beast::bind_front_handler(&Session::onStreamHead, shared_from_this()));
    }

    void onStreamHead(beast::error_code ec, std::size_t)
    {
        if (ec) return abortStream();
        // Reading while the stream is written (one read and one write at a
        // time, as Beast's websocket streams do): a client that leaves is
        // noticed at once instead of at the next failed write. It has nothing
        // more to send on this connection, so anything arriving ends it too.
        tcp().expires_never();
        stream_.async_read_some(net::buffer(probeBuffer_), beast::bind_front_handler(&Session::onProbe, shared_from_this()));
        // The wake-up must not keep the session alive: the stream it is stored in belongs to the session.
        responseStream_->start([weak = weak_from_this()] {
            if (auto self = weak.lock()) net::post(self->strand_, [self] { self->pumpStream(false); });
        });
        pumpStream(false);
    }

    void pumpStream(bool idle)
    {
        if (phase_ != Phase::Streaming || streamWriting_) return;  // a write in progress pumps again when done
        if (stopping_) return finishStream();
        ResponseStream::Chunk chunk = responseStream_->next(idle);
        if (chunk.data.empty()) {
            if (chunk.end) return finishStream();
            // Nothing to say: say something after idleInterval() of silence. Re-arming cancels the previous wait.
            idleTimer_.expires_after(responseStream_->idleInterval());
            idleTimer_.async_wait([self = shared_from_this()](beast::error_code timerError) {
                if (!timerError) self->pumpStream(true);
            });
            return;
        }
        streamEnding_ = chunk.end;
        chunkData_ = std::move(chunk.data);
        streamWriting_ = true;
        tcp().expires_after(server_.options.writeTimeout);  // a client that stops reading is dropped
        net::async_write(stream_, http::make_chunk(net::buffer(chunkData_)),
                         beast::bind_front_handler(&Session::onChunkWritten, shared_from_this()));
    }

    void onChunkWritten(beast::error_code ec, std::size_t)
    {
        streamWriting_ = false;
        chunkData_.clear();
        if (ec) return abortStream();
        if (streamEnding_) return finishStream();
        pumpStream(false);
    }

    /// The stream is over: the last chunk tells the client so, then the connection closes.
    void finishStream()
    {
        phase_ = Phase::Closing;
        stopResponseStream();
        tcp().expires_after(server_.options.writeTimeout);
        net::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code, std::size_t) {
            self->closeSocket();
        });
    }

    /// The client left, sent something, or a write failed: close without further ado.
    void abortStream()
    {
        if (phase_ != Phase::Streaming) return;
        phase_ = Phase::Closing;
        stopResponseStream();
        closeSocket();
    }

    void onProbe(beast::error_code, std::size_t) { abortStream(); }

    void stopResponseStream() noexcept
    {
        if (!responseStream_) return;
        responseStream_->stop();
        responseStream_.reset();
        try {
            idleTimer_.cancel();
        } catch (const std::exception&) {
            // Only fails when the timer's reactor is gone; the session ends anyway.
        }
    }

    /// Without a TLS close_notify: the probe read is still pending, and a
    /// shutdown would need a read of its own. The last chunk marked the end.
    void closeSocket()
    {
        beast::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

    void doLinger()
    {
        if (phase_ != Phase::Closing) lingerDeadline_ = std::chrono::steady_clock::now() + kLingerTotal;
        phase_ = Phase::Closing;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lingerDeadline_ - std::chrono::steady_clock::now());
        tcp().expires_after(std::clamp(left, std::chrono::milliseconds(1), kLingerIdle));
        stream_.async_read_some(net::buffer(lingerBuffer_),
                                beast::bind_front_handler(&Session::onLinger, shared_from_this()));
    }

    void onLinger(beast::error_code ec, std::size_t bytes)
    {
        lingered_ += bytes;
        if (!ec && lingered_ < kLingerMaxBytes) return doLinger();
        // The client closed or took too long; either way we are done. A timed-out
        // stream is already closed, anything else gets our close_notify.
        if (ec != beast::error::timeout) doClose();
    }

    void doClose()
    {
        phase_ = Phase::Closing;
        tcp().expires_after(server_.options.closeTimeout);
        stream_.async_shutdown(beast::bind_front_handler(&Session::onShutdown, shared_from_this()));
    }

    void onShutdown(beast::error_code)
    {
        // Whatever the peer did with our close_notify, the connection is over;
        // the socket closes with the session.
    }

    HttpsServer::Impl& server_;
    const net::any_io_executor strand_;  // this connection's strand (the listener accepted onto it)
    ssl::stream<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::size_t bodyLimit_ = 0;  // the current request's route's
    std::optional<http::response<http::string_body>> response_;
    std::optional<Request> request_;
    // A streamed response: its head, its serializer, the chunk being written.
    std::shared_ptr<ResponseStream> responseStream_;
    std::optional<http::response<http::empty_body>> streamHead_;
    std::optional<http::response_serializer<http::empty_body>> streamSerializer_;
    std::string chunkData_;
    bool streamWriting_ = false;
    bool streamEnding_ = false;
    std::array<char, 64> probeBuffer_{};
    net::steady_timer idleTimer_;
    const platform::UserId peerUser_;  // the OS user owning the client's socket (Listener::admitPeer)
    const std::chrono::steady_clock::time_point accepted_ = std::chrono::steady_clock::now();
    std::atomic<Standing> standing_{Standing::Pending};
    Phase phase_ = Phase::Handshake;
    bool stopping_ = false;
    bool keepAlive_ = false;
    bool isHead_ = false;
    bool unreadInput_ = false;  // the request was refused before it was read to its end
    std::size_t lingered_ = 0;
    std::chrono::steady_clock::time_point lingerDeadline_;
    std::array<char, 4096> lingerBuffer_{};
    std::string logMethod_;
    std::string logPath_;
    log::Fields logFields_;  // the journal's INKAN_* fields of the request being served
    std::chrono::steady_clock::time_point started_;
};

// ---------------------------------------------------------------------------

/// Accepts connections on one address, each onto its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(HttpsServer::Impl& server, std::string label)
        : server_(server), label_(std::move(label)), acceptor_(net::make_strand(server.ioc)),
          retryTimer_(acceptor_.get_executor())
    {
    }

    tcp::acceptor& acceptor() { return acceptor_; }
    const std::string& label() const { return label_; }
    void setLabel(std::string label) { label_ = std::move(label); }

    void start()
    {
        net::dispatch(acceptor_.get_executor(), beast::bind_front_handler(&Listener::doAccept, shared_from_this()));
    }

    void stop()
    {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            self->stopped_ = true;
            beast::error_code ignored;
            self->acceptor_.close(ignored);
            self->retryTimer_.cancel();
        });
    }

private:
    void doAccept()
    {
        if (stopped_) return;
        acceptor_.async_accept(net::make_strand(server_.ioc),
                               beast::bind_front_handler(&Listener::onAccept, shared_from_this()));
    }

    void onAccept(beast::error_code ec, tcp::socket socket)
    {
        if (stopped_ || ec == net::error::operation_aborted) return;
        if (ec == net::error::connection_aborted) return doAccept();  // the client gave up first; not our failure
        if (ec) return retryAfterFailure(ec);

        consecutiveFailures_ = 0;
        const auto peerUser = admitPeer(socket);
        if (!peerUser || !server_.makeRoom(label_)) {
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            // Every answer is complete when written: send it at once. With
            // Nagle's algorithm the answer after TLS 1.3's session tickets
            // waited for the client's delayed ACK (some 40 ms).
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            auto session = std::make_shared<Session>(server_, std::move(socket), *peerUser);
            server_.track(session);
            session->start();
        }
        doAccept();
    }

    /// Only inkand's own user (and root, if allowed) may talk to it: the owner
    /// of the peer's socket decides, before a byte of TLS. The peer's user when
    /// admitted; nullopt and one log line when refused.
    std::optional<platform::UserId> admitPeer(const tcp::socket& socket)
    {
        beast::error_code peerError;
        beast::error_code localError;
        const tcp::endpoint peer = socket.remote_endpoint(peerError);
        const tcp::endpoint local = socket.local_endpoint(localError);
        if (peerError || localError) return std::nullopt;  // the peer is gone already
        const auto user = platform::loopbackPeerUser(plain(peer), plain(local));
        const std::string from = "connection from port " + std::to_string(peer.port()) + " on " + label_;
        if (!user) {
            log::warn("refused a " + from + ": its owner is not in the system's socket table (closed already?)");
            return std::nullopt;
        }
        if (*user == server_.options.user) return user;
        if (platform::isAdministrator(*user)) {
            if (server_.options.allowRootClients) return user;
            log::warn("refused a " + from + " of root (uid 0): set \"allowRootClients\" to admit root");
            return std::nullopt;
        }
        log::warn("refused a " + from + " of uid " + std::to_string(*user) + ": inkand serves only uid " +
                  std::to_string(server_.options.user));
        return std::nullopt;
    }

    void retryAfterFailure(const beast::error_code& ec)
    {
        ++consecutiveFailures_;
        if (consecutiveFailures_ >= kMaxConsecutiveAcceptFailures) {
            log::error("no longer accepting on " + label_ + " after " + std::to_string(consecutiveFailures_) +
                       " failures in a row: " + describe(ec));
            stopped_ = true;
            server_.listenerGaveUp();
            return;
        }
        auto delay = kFirstAcceptRetryDelay * (1 << (consecutiveFailures_ - 1));
        delay = std::min(delay, kMaxAcceptRetryDelay);
        log::warn("accept failed on " + label_ + ": " + describe(ec) + "; retrying in " + std::to_string(delay.count()) + "ms");
        retryTimer_.expires_after(delay);
        retryTimer_.async_wait([self = shared_from_this()](beast::error_code timerError) {
            if (!timerError) self->doAccept();
        });
    }

    HttpsServer::Impl& server_;
    std::string label_;
    tcp::acceptor acceptor_;
    net::steady_timer retryTimer_;
    int consecutiveFailures_ = 0;
    bool stopped_ = false;
};

// ---------------------------------------------------------------------------

void HttpsServer::Impl::loadTls()
{
    SSL_CTX* native = tls.native_handle();
    // A floor, not a pin: TLS 1.3 is negotiated whenever the client has it.
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) throw StartupError("cannot set the minimum TLS version");
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) throw StartupError("cannot set the TLS 1.2 cipher suites");

    beast::error_code ec;
    tls.use_certificate_chain_file(options.certificateFile.string(), ec);
    if (ec) throw StartupError("cannot load the TLS certificate " + options.certificateFile.string() + ": " + ec.message());
    tls.use_private_key_file(options.privateKeyFile.string(), ssl::context::pem, ec);
    if (ec) throw StartupError("cannot load the TLS key " + options.privateKeyFile.string() + ": " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1) {
        throw StartupError("the TLS key " + options.privateKeyFile.string() + " does not match " +
                           options.certificateFile.string());
    }
}

void HttpsServer::Impl::listen(const std::string& address, bool optional)
{
    const auto ip = net::ip::make_address(address);
    const tcp::endpoint endpoint(ip, options.port);
    const std::string shown = ip.is_v6() ? "[" + address + "]" : address;
    const std::string where = shown + ":" + std::to_string(options.port);
    auto listener = std::make_shared<Listener>(*this, where);
    tcp::acceptor& acceptor = listener->acceptor();

    beast::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (ec == net::error::address_family_not_supported && optional) {
        log::warn("IPv6 is not available; listening on 127.0.0.1 only");
        return;
    }
    if (ec) throw StartupError("cannot open a socket for " + where + ": " + ec.message());
    // Lets a restarted daemon bind while old connections sit in TIME_WAIT;
    // on Linux it never allows two listeners on one port.
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (ip.is_v6()) acceptor.set_option(net::ip::v6_only(true), ec);

    acceptor.bind(endpoint, ec);
    if (ec == boost::system::errc::address_not_available && optional) {
        log::warn("IPv6 loopback ::1 is not available; listening on 127.0.0.1 only");
        return;
    }
    if (ec == net::error::address_in_use) {
        throw StartupError("port " + std::to_string(options.port) + " in use on " + shown +
                           " (is another inkand running? choose another with --port)");
    }
    if (ec == net::error::access_denied) throw StartupError("not permitted to listen on " + where);
    if (ec) throw StartupError("cannot listen on " + where + ": " + ec.message());

    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw StartupError("cannot listen on " + where + ": " + ec.message());

    listeners.push_back(std::move(listener));
    urls.push_back("https://" + where);
    port = options.port;
}

void HttpsServer::Impl::adopt(int nativeSocket)
{
    const std::string what = "the socket passed by the service manager (descriptor " + std::to_string(nativeSocket) + ")";
    // Which family, and is it listening? A socket unit with a typo must not
    // make inkand serve something else than loopback TCP.
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(nativeSocket, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw StartupError(what + " is not a socket");
    }
    int type = 0;
    int listening = 0;
    socklen_t optionLength = sizeof type;
    ::getsockopt(nativeSocket, SOL_SOCKET, SO_TYPE, &type, &optionLength);
    optionLength = sizeof listening;
    ::getsockopt(nativeSocket, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optionLength);
    if ((address.ss_family != AF_INET && address.ss_family != AF_INET6) || type != SOCK_STREAM || listening == 0) {
        throw StartupError(what + " is not a listening TCP socket (ListenStream=127.0.0.1:PORT in the socket unit)");
    }
    auto listener = std::make_shared<Listener>(*this, "");
    tcp::acceptor& acceptor = listener->acceptor();
    beast::error_code ec;
    acceptor.assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), nativeSocket, ec);
    if (ec) throw StartupError("cannot take " + what + ": " + ec.message());
    const tcp::endpoint local = acceptor.local_endpoint(ec);
    if (ec) throw StartupError("cannot take " + what + ": " + ec.message());
    const std::string shown = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
    const std::string where = shown + ":" + std::to_string(local.port());
    if (!local.address().is_loopback()) {
        throw StartupError(what + " listens on " + where + ", not on a loopback address: inkand serves this machine only");
    }
    if (port != 0 && local.port() != port) {
        throw StartupError("the sockets passed by the service manager listen on different ports (" +
                           std::to_string(port) + " and " + std::to_string(local.port()) + ")");
    }
    port = local.port();
    listener->setLabel(where);
    listeners.push_back(std::move(listener));
    urls.push_back("https://" + where);
}

void HttpsServer::Impl::scheduleHeartbeat()
{
    heartbeatTimer.expires_after(options.heartbeatInterval);
    heartbeatTimer.async_wait([this](beast::error_code ec) {
        if (ec || shuttingDown.load()) return;
        options.heartbeat();
        scheduleHeartbeat();
    });
}

void HttpsServer::Impl::scheduleIdleCheck()
{
    idleTimer.expires_after(kIdleCheckInterval);
    idleTimer.async_wait([this](beast::error_code ec) {
        if (ec || shuttingDown.load()) return;
        const auto now = std::chrono::steady_clock::now();
        if (connections.load() != 0) lastBusy = now;
        if (now - lastBusy >= options.idleExit) {
            log::info("no connection for " + std::to_string(options.idleExit.count()) +
                      "s: exiting (the next connection starts inkand again)");
            beginShutdown();
            return;
        }
        scheduleIdleCheck();
    });
}

bool HttpsServer::Impl::makeRoom(const std::string& where)
{
    const std::lock_guard lock(sessionsMutex);
    for (int attempt = 0; attempt < kEvictionAttempts; ++attempt) {
        std::vector<std::shared_ptr<Session>> live;
        std::vector<OpenConnection> open;
        for (const auto& weak : sessions) {
            auto session = weak.lock();
            if (!session || session->evicted()) continue;
            open.push_back(session->openConnection());
            live.push_back(std::move(session));
        }
        const CapDecision decision = decideAdmission(open, options.maxConnections, options.reservedConnections);
        switch (decision.kind) {
        case CapDecision::Kind::Admit:
            return true;
        case CapDecision::Kind::Refuse:
            log::warn("all " + std::to_string(open.size()) + " connections are serving clients; refusing one on " + where);
            return false;
        case CapDecision::Kind::EvictAndAdmit:
            if (live[decision.victim]->evict()) {
                log::info("connection limit reached: closed the oldest connection that had sent no request");
                return true;
            }
            break;  // it has just sent its first request: choose again
        }
    }
    log::warn("connection limit reached and no connection gave way; refusing one on " + where);
    return false;
}

void HttpsServer::Impl::track(const std::shared_ptr<Session>& session)
{
    const std::lock_guard lock(sessionsMutex);
    std::erase_if(sessions, [](const std::weak_ptr<Session>& s) { return s.expired(); });
    sessions.push_back(session);
}

void HttpsServer::Impl::stopSessions()
{
    std::vector<std::shared_ptr<Session>> live;
    {
        const std::lock_guard lock(sessionsMutex);
        for (const auto& weak : sessions) {
            if (auto session = weak.lock()) live.push_back(std::move(session));
        }
    }
    for (const auto& session : live) session->stop();
}

void HttpsServer::Impl::waitForSignal()
{
    signals.async_wait([this](beast::error_code ec, int signal) {
        if (ec) return;
        if (shuttingDown.load()) {
            // The user insists: leave now. pcscd releases the card of a vanished client.
            log::warn("second signal " + std::to_string(signal) + ": exiting without waiting for the card");
            std::_Exit(1);
        }
        log::info("signal " + std::to_string(signal) + " received");
        beginShutdown();
        waitForSignal();
    });
}

void HttpsServer::Impl::beginShutdown()
{
    if (shuttingDown.exchange(true)) return;
    log::info("shutting down: no new connections; letting the running card operations finish");
    heartbeatTimer.cancel();
    idleTimer.cancel();
    for (const auto& listener : listeners) listener->stop();
    // Idle connections close now; those waiting for the card answer first, then close.
    stopSessions();

    // Responses of the card operations still running come back through the
    // io_context after drain() returns: keep it running until then.
    drainGuard.emplace(ioc.get_executor());
    drainThread = std::thread([this] {
        try {
            if (drain) drain();
        } catch (const std::exception& e) {
            log::error(std::string("while finishing card operations: ") + e.what());
        }
        net::post(ioc, [this] {
            stopSessions();  // again, for a connection accepted just before the listeners closed
            drainGuard.reset();
            pollDrain(std::chrono::steady_clock::now() + options.drainTimeout);
        });
    });
}

void HttpsServer::Impl::pollDrain(std::chrono::steady_clock::time_point deadline)
{
    if (connections.load() == 0) {
        signals.cancel();
        return;  // nothing left: io_context.run() returns
    }
    if (std::chrono::steady_clock::now() >= deadline) {
        log::warn(std::to_string(connections.load()) + " connection(s) still open at exit; closing them");
        ioc.stop();
        return;
    }
    drainTimer.expires_after(kDrainPollInterval);
    drainTimer.async_wait([this, deadline](beast::error_code ec) {
        if (!ec) pollDrain(deadline);
    });
}

void HttpsServer::Impl::listenerGaveUp()
{
    net::post(ioc, [this] {
        if (++failedListeners < listeners.size()) return;
        log::error("no address accepts connections any more; stopping");
        exitCode = 1;
        beginShutdown();
    });
}

// ---------------------------------------------------------------------------

HttpsServer::HttpsServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options)))
{
    if (auto reason = platform::peerLookupUnavailable()) throw StartupError(*reason);
    impl_->loadTls();
    if (impl_->options.inheritedSockets.empty()) {
        impl_->listen("127.0.0.1", /*optional=*/false);
        impl_->listen("::1", /*optional=*/true);
    } else {
        for (const int socket : impl_->options.inheritedSockets) impl_->adopt(socket);
    }
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
}

HttpsServer::~HttpsServer()
{
    if (impl_->drainThread.joinable()) impl_->drainThread.join();
}

std::vector<std::string> HttpsServer::urls() const { return impl_->urls; }

std::uint16_t HttpsServer::port() const { return impl_->port; }

int HttpsServer::run(const Api& api, std::function<void()> drain)
{
    impl_->api = &api;
    impl_->drain = std::move(drain);
    impl_->waitForSignal();
    impl_->lastBusy = std::chrono::steady_clock::now();
    if (impl_->options.heartbeat && impl_->options.heartbeatInterval.count() > 0) impl_->scheduleHeartbeat();
    if (impl_->options.idleExit.count() > 0) impl_->scheduleIdleCheck();
    for (const auto& listener : impl_->listeners) listener->start();
    while (true) {
        try {
            impl_->ioc.run();
            break;
        } catch (const std::exception& e) {
            // A handler must not throw; if one does, log it and keep serving.
            log::error(std::string("unexpected exception in the I/O loop: ") + e.what());
        }
    }
    if (impl_->drainThread.joinable()) impl_->drainThread.join();
    return impl_->exitCode;
}

void HttpsServer::stop()
{
    net::post(impl_->ioc, [impl = impl_.get()] { impl->beginShutdown(); });
}

}  // namespace inkan::api
