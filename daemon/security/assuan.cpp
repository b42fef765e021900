#include "daemon/security/assuan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>

#include <assuan.h>
#include <openssl/crypto.h>

#include "daemon/error.hpp"
#include "daemon/platform/child_process.hpp"

namespace inkan::security::assuan {

namespace {

using Clock = Connection::Clock;

constexpr char kEscape = '%';
constexpr char kHexDigits[] = "0123456789ABCDEF";
constexpr std::string_view kBye = "BYE";

// How often a waiting read checks whether the conversation was abandoned.
constexpr auto kPollSlice = std::chrono::milliseconds(250);

// The error source libassuan stamps on its own errors (gpg-error.h).
constexpr gpg_err_source_t kErrorSource = GPG_ERR_SOURCE_USER_1;

bool needsEscape(unsigned char c) { return c < 0x20 || c == 0x7F || c == static_cast<unsigned char>(kEscape); }

/// Where to cut UTF-8 `text` so at most `limit` bytes remain, on a character boundary.
std::size_t utf8Cut(std::string_view text, std::size_t limit)
{
    if (text.size() <= limit) return text.size();
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
    return cut;
}

Error unavailable(const std::string& why)
{
    return Error(ErrorCode::PinEntryUnavailable, "inkand's PIN dialog could not be shown: " + why);
}

// libassuan's memory: every block is wiped when freed or moved, since the
// context's line buffer holds the PIN's D line. A size header in front.
struct alignas(std::max_align_t) BlockHeader {
    std::size_t size;
};

void* wipingMalloc(std::size_t size)
{
    auto* header = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + size));
    if (!header) return nullptr;
    header->size = size;
    return header + 1;
}

void wipingFree(void* block)
{
    if (!block) return;
    BlockHeader* header = static_cast<BlockHeader*>(block) - 1;
    OPENSSL_cleanse(block, header->size);
    std::free(header);
}

void* wipingRealloc(void* block, std::size_t size)
{
    if (!block) return wipingMalloc(size);
    void* moved = wipingMalloc(size);
    if (!moved) return nullptr;
    std::memcpy(moved, block, std::min(size, (static_cast<BlockHeader*>(block) - 1)->size));
    wipingFree(block);
    return moved;
}

assuan_malloc_hooks wipingAllocator{wipingMalloc, wipingRealloc, wipingFree};

/// libassuan logs nothing of a conversation that carries PINs.
int noLogging(assuan_context_t, void*, unsigned int, const char*) { return 0; }

/// The channel's handle as libassuan's descriptor type (int on POSIX, HANDLE on Windows).
template <typename Fd = assuan_fd_t>
Fd toAssuanFd(std::intptr_t handle)
{
    if constexpr (std::is_pointer_v<Fd>) {
        return reinterpret_cast<Fd>(handle);
    } else {
        return static_cast<Fd>(handle);
    }
}

}  // namespace

// What libassuan's hooks and callbacks reach (assuan_set_pointer).
struct Connection::State {
    platform::Channel& channel;
    Abandoned abandoned;
    Clock::time_point deadline{};
    assuan_context_t context = nullptr;
    /// Why the last call failed on inkand's side, if it did (thrown after libassuan returns).
    std::optional<Error> failure;
    std::optional<Secret> data;
    /// Whether the last response line was an ERR (libassuan's own errors are not).
    bool serverError = false;

    State(platform::Channel& c, Abandoned a) : channel(c), abandoned(std::move(a)) {}

    ssize_t fail(Error error, int code)
    {
        if (!failure) failure = std::move(error);
        errno = code;
        return -1;
    }

    ssize_t read(void* buffer, std::size_t size)
    {
        while (true) {
            if (abandoned && abandoned()) return fail(Error(ErrorCode::PinCancelled, "the dialog is no longer needed"), ECANCELED);
            const auto now = Clock::now();
            if (now >= deadline) return fail(Error(ErrorCode::PinEntryTimeout, "nobody answered inkand's PIN dialog in time"), ETIMEDOUT);
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::min<Clock::duration>(kPollSlice, deadline - now));
            if (!channel.waitReadable(wait)) continue;
            std::error_code error;
            const std::ptrdiff_t n = channel.read(buffer, size, error);
            if (n < 0) {
                if (error == std::errc::interrupted || error == std::errc::resource_unavailable_try_again) continue;
                return fail(unavailable("cannot read from the program: " + error.message()), EIO);
            }
            if (n == 0) fail(unavailable("the program ended unexpectedly"), 0);
            return n;
        }
    }

    ssize_t write(const void* buffer, std::size_t size)
    {
        std::error_code error;
        const std::ptrdiff_t n = channel.write(buffer, size, error);
        if (n >= 0) return n;
        if (error == std::errc::interrupted) {
            errno = EINTR;  // libassuan tries again
            return -1;
        }
        return fail(unavailable("the program stopped listening"), EPIPE);
    }
};

namespace {

using State = Connection::State;

State& stateOf(assuan_context_t context) { return *static_cast<State*>(assuan_get_pointer(context)); }

// libassuan's system hooks: reads and writes go through the platform channel
// (with the deadline and abandonment); the channel belongs to the child
// process, so closing is not libassuan's business. It never spawns here.
ssize_t hookRead(assuan_context_t context, assuan_fd_t, void* buffer, size_t size)
{
    State& state = stateOf(context);
    try {
        return state.read(buffer, size);
    } catch (const std::exception& e) {
        return state.fail(unavailable(e.what()), EIO);
    }
}

ssize_t hookWrite(assuan_context_t context, assuan_fd_t, const void* buffer, size_t size)
{
    State& state = stateOf(context);
    try {
        return state.write(buffer, size);
    } catch (const std::exception& e) {
        return state.fail(unavailable(e.what()), EIO);
    }
}

int hookClose(assuan_context_t, assuan_fd_t) { return 0; }
void hookSleep(assuan_context_t, unsigned int microseconds) { std::this_thread::sleep_for(std::chrono::microseconds(microseconds)); }
int hookPipe(assuan_context_t, assuan_fd_t[2], int) { errno = ENOSYS; return -1; }
int hookRecvmsg(assuan_context_t, assuan_fd_t, assuan_msghdr_t, int) { errno = ENOSYS; return -1; }
int hookSendmsg(assuan_context_t, assuan_fd_t, const assuan_msghdr_t, int) { errno = ENOSYS; return -1; }
int hookSpawn(assuan_context_t, pid_t*, const char*, const char**, assuan_fd_t, assuan_fd_t, assuan_fd_t*, void (*)(void*, int), void*,
              unsigned int)
{
    errno = ENOSYS;
    return -1;
}
pid_t hookWaitpid(assuan_context_t, pid_t, int, int*, int) { errno = ECHILD; return -1; }
int hookSocketpair(assuan_context_t, int, int, int, assuan_fd_t[2]) { errno = ENOSYS; return -1; }
int hookSocket(assuan_context_t, int, int, int) { errno = ENOSYS; return -1; }
int hookConnect(assuan_context_t, int, struct sockaddr*, socklen_t) { errno = ENOSYS; return -1; }

assuan_system_hooks channelHooks{ASSUAN_SYSTEM_HOOKS_VERSION, hookSleep, hookPipe,     hookClose,      hookRead,   hookWrite,
                                 hookRecvmsg,                 hookSendmsg, hookSpawn, hookWaitpid, hookSocketpair, hookSocket, hookConnect};

/// Notes whether a response line is an ERR, so a server's error is told from libassuan's own.
unsigned int watchResponses(assuan_context_t context, void*, int direction, const char* line, size_t length)
{
    if (direction == ASSUAN_IO_FROM_PEER) {
        const std::string_view text(line, length);
        stateOf(context).serverError = text.substr(0, 4) == "ERR " || text == "ERR";
    }
    return 0;
}

gpg_error_t onData(void* opaque, const void* buffer, size_t length)
{
    State& state = *static_cast<State*>(opaque);
    if (state.data) {
        state.fail(unavailable("unexpected data from the program"), EPROTO);
        return gpg_err_make(kErrorSource, GPG_ERR_ASS_TOO_MUCH_DATA);
    }
    state.data.emplace(std::string_view(static_cast<const char*>(buffer), length));
    return 0;
}

gpg_error_t onInquire(void* opaque, const char*)
{
    static_cast<State*>(opaque)->fail(unavailable("the program does not speak pinentry's protocol"), EPROTO);
    return gpg_err_make(kErrorSource, GPG_ERR_ASS_CANCELED);
}

}  // namespace

std::string escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (needsEscape(byte)) {
            out += kEscape;
            out += kHexDigits[byte >> 4];
            out += kHexDigits[byte & 0x0F];
        } else {
            out += c;
        }
    }
    return out;
}

std::string command(std::string_view verb, std::string_view argument)
{
    std::string line(verb);
    if (argument.empty()) return line;
    line += ' ';
    // Leave room for the LF; shorten the text (not the escapes) until it fits.
    const std::size_t budget = kMaxLineLength - 1 - line.size();
    std::string escaped = escape(argument);
    std::size_t keep = argument.size();
    while (escaped.size() > budget && keep > 0) {
        keep = utf8Cut(argument, keep - 1);
        escaped = escape(argument.substr(0, keep));
    }
    return line + escaped;
}

Connection::Connection(platform::Channel& channel, Abandoned abandoned, Clock::time_point deadline)
    : state_(std::make_unique<State>(channel, std::move(abandoned)))
{
    if (assuan_new_ext(&state_->context, kErrorSource, &wipingAllocator, noLogging, nullptr) != 0) {
        throw unavailable("cannot set up the Assuan client");
    }
    assuan_set_flag(state_->context, ASSUAN_NO_LOGGING, 1);
    assuan_ctx_set_system_hooks(state_->context, &channelHooks);
    assuan_set_pointer(state_->context, state_.get());
    assuan_set_io_monitor(state_->context, watchResponses, nullptr);
    state_->deadline = deadline;
    if (assuan_socket_connect_fd(state_->context, toAssuanFd(channel.nativeHandle()), 0) != 0) {
        std::optional<Error> failure = std::move(state_->failure);
        assuan_release(state_->context);
        state_->context = nullptr;
        throw failure ? *failure : unavailable("the program did not greet");
    }
}

Connection::~Connection()
{
    if (!state_->context) return;
    // Best effort: a polite end lets the program restore the terminal.
    state_->deadline = Clock::now();
    (void)assuan_write_line(state_->context, std::string(kBye).c_str());
    assuan_release(state_->context);
}

Reply Connection::transact(std::string_view verb, std::string_view argument, Clock::time_point deadline)
{
    State& state = *state_;
    state.deadline = deadline;
    state.failure.reset();
    state.data.reset();
    state.serverError = false;
    const std::string line = command(verb, argument);
    const gpg_error_t result = assuan_transact(state.context, line.c_str(), onData, &state, onInquire, &state, nullptr, nullptr);
    Reply reply;
    reply.data = std::move(state.data);
    if (state.failure) throw *state.failure;
    if (result == 0) {
        reply.ok = true;
    } else if (state.serverError) {
        reply.errorCode = gpg_err_code(result);
    } else {
        throw unavailable(std::string("the program does not speak pinentry's protocol (") + gpg_strerror(result) + ")");
    }
    return reply;
}

}  // namespace inkan::security::assuan
