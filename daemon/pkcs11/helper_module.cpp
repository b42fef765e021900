// A PKCS#11 module in its helper process (helper_module.hpp).
#include "daemon/pkcs11/helper_module.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon/error.hpp"
#include "daemon/platform/spawn_actions_posix.hpp"

extern char** environ;

namespace inkan::pkcs11 {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kHelperName = "inkan-p11-helper";
constexpr std::string_view kInstalledDir = "libexec/inkan";
// Loading a module (C_Initialize) may scan readers or a token directory; more than this is hung.
constexpr auto kStartTimeout = std::chrono::seconds(30);

}  // namespace

fs::path defaultHelperPath()
{
    std::error_code error;
    const auto self = fs::read_symlink("/proc/self/exe", error);
    if (error) return fs::path(kHelperName);
    // Installed: <prefix>/bin/inkand and <prefix>/libexec/inkan/inkan-p11-helper; built: side by side.
    const auto installed = self.parent_path().parent_path() / kInstalledDir / kHelperName;
    return fs::exists(installed, error) ? installed : self.parent_path() / kHelperName;
}

HelperModule::HelperModule(HelperOptions options) : options_(std::move(options)), path_(options_.module.string())
{
    std::error_code error;
    if (!fs::is_regular_file(options_.module, error)) {
        throw ModuleLoadError("the PKCS#11 module " + path_ + " is not a file");
    }
    std::string why;
    if (start(why) != kCkrOk) {
        stop();
        throw ModuleLoadError("the PKCS#11 module " + path_ + " does not load: " + why);
    }
}

HelperModule::~HelperModule() { stop(); }

std::uint64_t HelperModule::start(std::string& why)
{
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        why = std::string("cannot create a socket pair: ") + std::strerror(errno);
        return kCkrFunctionNotSupported;
    }
    socket_.reset(pair[0]);
    FileDescriptor theirs(pair[1]);
    platform::SpawnActions actions;
    const std::string helper = options_.helper.string();
    if (::posix_spawn_file_actions_adddup2(actions.get(), theirs.get(), STDIN_FILENO) != 0 ||
        ::posix_spawn_file_actions_adddup2(actions.get(), theirs.get(), STDOUT_FILENO) != 0 ||
        // The module's own messages go where inkand's go; nothing else of inkand reaches it.
        ::posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1) != 0) {
        why = "cannot prepare the helper's start";
        return kCkrFunctionNotSupported;
    }
    char* argv[] = {const_cast<char*>(helper.c_str()), const_cast<char*>(path_.c_str()), nullptr};
    const int result = ::posix_spawn(&pid_, helper.c_str(), actions.get(), nullptr, argv, environ);
    if (result != 0) {
        pid_ = -1;
        why = "cannot start " + helper + ": " + std::strerror(result);
        return kCkrFunctionNotSupported;
    }
    theirs.reset();  // only the helper holds that end now: its exit reads as end of file
    const auto hello = readFrame(Clock::now() + kStartTimeout, why);
    if (hello.empty()) return kCkrFunctionNotSupported;
    try {
        wire::Reader in(hello);
        const auto rv = in.u64();
        (rv == kCkrOk ? description_ : why) = in.text();
        if (rv != kCkrOk && why.empty()) why = returnValueName(rv);
        return rv;
    } catch (const wire::WireError& e) {
        why = e.what();
        return kCkrFunctionNotSupported;
    }
}

void HelperModule::stop() noexcept
{
    socket_.reset();
    if (pid_ <= 0) return;
    // Closing the socket ends a healthy helper; a hung one does not notice.
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

std::vector<std::uint8_t> HelperModule::readFrame(Clock::time_point deadline, std::string& why)
{
    std::vector<std::uint8_t> buffer(wire::kLengthBytes);
    std::size_t have = 0;
    bool lengthRead = false;
    while (have < buffer.size()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            why = "it did not answer within " + std::to_string(options_.timeout.count() / 1000) + " s";
            return {};
        }
        pollfd descriptor{socket_.get(), POLLIN, 0};
        const int ready = ::poll(&descriptor, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;  // the deadline is checked above
        const ssize_t n = ::read(socket_.get(), buffer.data() + have, buffer.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            why = "its process ended";
            return {};
        }
        have += static_cast<std::size_t>(n);
        if (!lengthRead && have == wire::kLengthBytes) {
            const auto length = wire::frameLength(buffer.data());
            if (length == 0 || length > wire::kMaxFrame) {
                why = "it sent a malformed answer";
                return {};
            }
            lengthRead = true;
            buffer.resize(wire::kLengthBytes + length);
        }
    }
    buffer.erase(buffer.begin(), buffer.begin() + wire::kLengthBytes);
    return buffer;
}

void HelperModule::failed(const std::string& why)
{
    stop();
    const std::string message = "the PKCS#11 module " + path_ + " failed (" + why + "); its helper process was "
                                "stopped and starts again with the next request";
    if (options_.log) options_.log(message);
    throw Error(ErrorCode::TokenModuleFailed, message);
}

std::vector<std::uint8_t> HelperModule::call(wire::Writer& request)
{
    auto& frame = request.frame();
    struct Wipe {
        std::vector<std::uint8_t>& bytes;
        ~Wipe() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    } wipe{frame};
    if (!socket_) {
        std::string why;
        if (start(why) != kCkrOk) failed("it could not be started again: " + why);
        if (options_.log) options_.log("started the helper of the PKCS#11 module " + path_ + " again");
    }
    std::size_t sent = 0;
    while (sent < frame.size()) {
        const ssize_t n = ::send(socket_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) failed("its process ended");
        sent += static_cast<std::size_t>(n);
    }
    std::string why;
    auto answer = readFrame(Clock::now() + options_.timeout, why);
    if (answer.empty()) failed(why);
    return answer;
}

SlotList HelperModule::slots()
{
    const std::lock_guard lock(mutex_);
    wire::Writer request;
    request.u8(static_cast<std::uint8_t>(wire::Op::Slots));
    const auto answer = call(request);
    try {
        wire::Reader in(answer);
        SlotList list;
        list.rv = in.u64();
        if (list.rv != kCkrOk) return list;
        for (auto count = in.u64(); count > 0; --count) {
            SlotToken token;
            token.slot = in.u64();
            token.slotDescription = in.text();
            token.label = in.text();
            token.manufacturer = in.text();
            token.model = in.text();
            token.serial = in.text();
            token.flags = in.u64();
            token.minPinLength = in.u64();
            token.maxPinLength = in.u64();
            list.tokens.push_back(std::move(token));
        }
        return list;
    } catch (const wire::WireError&) {
        failed("it sent a malformed answer");
    }
}

TokenObjects HelperModule::objects(std::uint64_t slot)
{
    const std::lock_guard lock(mutex_);
    wire::Writer request;
    request.u8(static_cast<std::uint8_t>(wire::Op::Objects)).u64(slot);
    const auto answer = call(request);
    try {
        wire::Reader in(answer);
        TokenObjects objects;
        objects.rv = in.u64();
        if (objects.rv != kCkrOk) return objects;
        for (auto count = in.u64(); count > 0; --count) objects.mechanisms.push_back(in.u64());
        for (auto count = in.u64(); count > 0; --count) {
            TokenObjects::Certificate certificate;
            certificate.id = in.bytes();
            certificate.label = in.text();
            certificate.der = in.bytes();
            objects.certificates.push_back(std::move(certificate));
        }
        for (auto count = in.u64(); count > 0; --count) {
            TokenObjects::Key key;
            key.id = in.bytes();
            key.keyType = in.u64();
            objects.privateKeys.push_back(std::move(key));
        }
        return objects;
    } catch (const wire::WireError&) {
        failed("it sent a malformed answer");
    }
}

PinAnswer HelperModule::login(std::uint64_t slot, const Secret& pin)
{
    const std::lock_guard lock(mutex_);
    wire::Writer request;
    request.u8(static_cast<std::uint8_t>(wire::Op::Login)).u64(slot).text(pin.view());
    const auto answer = call(request);
    try {
        wire::Reader in(answer);
        PinAnswer result;
        result.rv = in.u64();
        result.flags = in.u64();
        return result;
    } catch (const wire::WireError&) {
        failed("it sent a malformed answer");
    }
}

SignAnswer HelperModule::sign(std::uint64_t slot, const Secret& pin, const Bytes& keyId, std::uint64_t mechanism,
                              const Bytes& data)
{
    const std::lock_guard lock(mutex_);
    wire::Writer request;
    request.u8(static_cast<std::uint8_t>(wire::Op::Sign)).u64(slot).text(pin.view()).bytes(keyId).u64(mechanism).bytes(data);
    const auto answer = call(request);
    try {
        wire::Reader in(answer);
        SignAnswer result;
        result.rv = in.u64();
        result.flags = in.u64();
        result.signature = in.bytes();
        return result;
    } catch (const wire::WireError&) {
        failed("it sent a malformed answer");
    }
}

PinAnswer HelperModule::setPin(std::uint64_t slot, const Secret& oldPin, const Secret& newPin)
{
    const std::lock_guard lock(mutex_);
    wire::Writer request;
    request.u8(static_cast<std::uint8_t>(wire::Op::SetPin)).u64(slot).text(oldPin.view()).text(newPin.view());
    const auto answer = call(request);
    try {
        wire::Reader in(answer);
        PinAnswer result;
        result.rv = in.u64();
        result.flags = in.u64();
        return result;
    } catch (const wire::WireError&) {
        failed("it sent a malformed answer");
    }
}

std::string returnValueName(std::uint64_t rv)
{
    switch (rv) {
    case kCkrOk: return "CKR_OK";
    case kCkrFunctionNotSupported: return "CKR_FUNCTION_NOT_SUPPORTED";
    case kCkrDeviceRemoved: return "CKR_DEVICE_REMOVED";
    case kCkrSessionHandleInvalid: return "CKR_SESSION_HANDLE_INVALID";
    case kCkrSlotIdInvalid: return "CKR_SLOT_ID_INVALID";
    case kCkrTokenNotPresent: return "CKR_TOKEN_NOT_PRESENT";
    case kCkrTokenNotRecognized: return "CKR_TOKEN_NOT_RECOGNIZED";
    case kCkrPinIncorrect: return "CKR_PIN_INCORRECT";
    case kCkrPinInvalid: return "CKR_PIN_INVALID";
    case kCkrPinLenRange: return "CKR_PIN_LEN_RANGE";
    case kCkrPinExpired: return "CKR_PIN_EXPIRED";
    case kCkrPinLocked: return "CKR_PIN_LOCKED";
    case kCkrKeyHandleInvalid: return "CKR_KEY_HANDLE_INVALID";
    case kCkrMechanismInvalid: return "CKR_MECHANISM_INVALID";
    case kCkrFunctionCanceled: return "CKR_FUNCTION_CANCELED";
    case kCkrUserPinNotInitialized: return "CKR_USER_PIN_NOT_INITIALIZED";
    default: {
        static constexpr char kHex[] = "0123456789ABCDEF";
        std::string text = "CK_RV 0x";
        bool started = false;
        for (int shift = 60; shift >= 0; shift -= 4) {
            const auto digit = static_cast<unsigned>((rv >> shift) & 0xF);
            if (digit != 0 || started || shift == 0) {
                text += kHex[digit];
                started = true;
            }
        }
        return text;
    }
    }
}

}  // namespace inkan::pkcs11
