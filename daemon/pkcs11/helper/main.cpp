// inkan-p11-helper — runs one PKCS#11 module for inkand, in a process of its
// own, so that a module that crashes or hangs takes only this process down
// (docs/credentials.md "PKCS#11 tokens"). inkand starts one per module with a
// socket as standard input and output and speaks daemon/pkcs11/wire.hpp on it;
// the helper greets (Op::Hello), then answers one request at a time until
// inkand closes the socket. It knows tokens, sessions and objects, nothing of
// cards, HTTP or policy: inkand decides what to list and which mechanism to use.
//
// PINs arrive in requests only, are used for one C_Login or C_SetPIN, and are
// wiped with the request; the helper writes nothing anywhere but its answers.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <p11-kit/pkcs11.h>

#include "daemon/pkcs11/wire.hpp"

namespace {

using inkan::pkcs11::wire::Op;
using inkan::pkcs11::wire::Reader;
using inkan::pkcs11::wire::Writer;
using Bytes = std::vector<std::uint8_t>;

// Find objects in batches of this many handles.
constexpr CK_ULONG kFindBatch = 32;
// Certificates, keys: a token with more than this is not one person's credential.
constexpr std::size_t kMaxObjects = 64;

CK_FUNCTION_LIST* module = nullptr;

void wipe(void* data, std::size_t size) noexcept
{
    if (size != 0) ::explicit_bzero(data, size);
}

/// Blank-padded fixed-size PKCS#11 text without its padding.
std::string trimmed(const unsigned char* text, std::size_t size)
{
    std::string value(reinterpret_cast<const char*>(text), size);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
    return value;
}

bool readAll(int fd, std::uint8_t* data, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::read(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool writeAll(int fd, const std::uint8_t* data, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

CK_FLAGS tokenFlags(CK_SLOT_ID slot)
{
    CK_TOKEN_INFO info{};
    return module->C_GetTokenInfo(slot, &info) == CKR_OK ? info.flags : 0;
}

/// An open session, closed (and logged out, when logged in) on scope exit.
class Session {
public:
    Session(CK_SLOT_ID slot, CK_FLAGS extra) { rv_ = module->C_OpenSession(slot, CKF_SERIAL_SESSION | extra, nullptr, nullptr, &handle_); }
    ~Session()
    {
        if (rv_ != CKR_OK) return;
        if (loggedIn_) module->C_Logout(handle_);
        module->C_CloseSession(handle_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    CK_RV opened() const noexcept { return rv_; }
    CK_SESSION_HANDLE handle() const noexcept { return handle_; }

    /// C_Login as the user; an empty view on a token with a protected
    /// authentication path lets the token ask for the PIN itself.
    CK_RV login(std::string_view pin)
    {
        CK_RV rv = pin.empty() ? module->C_Login(handle_, CKU_USER, nullptr, 0)
                               : module->C_Login(handle_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())),
                                                 static_cast<CK_ULONG>(pin.size()));
        if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
        loggedIn_ = rv == CKR_OK;
        return rv;
    }

    /// The handles of the objects matching `attributes`, at most kMaxObjects.
    std::vector<CK_OBJECT_HANDLE> find(CK_ATTRIBUTE* attributes, CK_ULONG count)
    {
        std::vector<CK_OBJECT_HANDLE> found;
        if (module->C_FindObjectsInit(handle_, attributes, count) != CKR_OK) return found;
        CK_OBJECT_HANDLE batch[kFindBatch];
        CK_ULONG got = 0;
        while (found.size() < kMaxObjects && module->C_FindObjects(handle_, batch, kFindBatch, &got) == CKR_OK && got > 0) {
            found.insert(found.end(), batch, batch + got);
        }
        module->C_FindObjectsFinal(handle_);
        return found;
    }

    /// One attribute's value; empty when the object has none or hides it.
    Bytes attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type)
    {
        CK_ATTRIBUTE attribute{type, nullptr, 0};
        if (module->C_GetAttributeValue(handle_, object, &attribute, 1) != CKR_OK || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
            return {};
        }
        Bytes value(attribute.ulValueLen);
        attribute.pValue = value.data();
        if (module->C_GetAttributeValue(handle_, object, &attribute, 1) != CKR_OK) return {};
        value.resize(attribute.ulValueLen);
        return value;
    }

    CK_ULONG ulongAttribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, CK_ULONG fallback)
    {
        CK_ULONG value = fallback;
        CK_ATTRIBUTE attribute{type, &value, sizeof value};
        return module->C_GetAttributeValue(handle_, object, &attribute, 1) == CKR_OK ? value : fallback;
    }

private:
    CK_SESSION_HANDLE handle_ = 0;
    CK_RV rv_ = CKR_GENERAL_ERROR;
    bool loggedIn_ = false;
};

void slots(Writer& out)
{
    CK_ULONG count = 0;
    CK_RV rv = module->C_GetSlotList(CK_TRUE, nullptr, &count);
    std::vector<CK_SLOT_ID> ids(count);
    if (rv == CKR_OK && count > 0) rv = module->C_GetSlotList(CK_TRUE, ids.data(), &count);
    if (rv != CKR_OK) {
        out.u64(rv);
        return;
    }
    ids.resize(count);
    std::uint64_t listed = 0;
    out.u64(CKR_OK);
    std::vector<std::pair<CK_SLOT_INFO, CK_TOKEN_INFO>> infos;
    std::vector<CK_SLOT_ID> present;
    for (const auto id : ids) {
        CK_SLOT_INFO slot{};
        CK_TOKEN_INFO token{};
        // A token taken out between the two calls is left out.
        if (module->C_GetSlotInfo(id, &slot) != CKR_OK || module->C_GetTokenInfo(id, &token) != CKR_OK) continue;
        if ((token.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
        infos.emplace_back(slot, token);
        present.push_back(id);
        ++listed;
    }
    out.u64(listed);
    for (std::size_t i = 0; i < present.size(); ++i) {
        const auto& [slot, token] = infos[i];
        out.u64(present[i])
            .text(trimmed(slot.slotDescription, sizeof slot.slotDescription))
            .text(trimmed(token.label, sizeof token.label))
            .text(trimmed(token.manufacturerID, sizeof token.manufacturerID))
            .text(trimmed(token.model, sizeof token.model))
            .text(trimmed(token.serialNumber, sizeof token.serialNumber))
            .u64(token.flags)
            .u64(token.ulMinPinLen)
            .u64(token.ulMaxPinLen);
    }
}

void objects(Reader& in, Writer& out)
{
    const CK_SLOT_ID slot = in.u64();
    Session session(slot, 0);
    if (session.opened() != CKR_OK) {
        out.u64(session.opened());
        return;
    }
    out.u64(CKR_OK);
    CK_ULONG count = 0;
    std::vector<CK_MECHANISM_TYPE> mechanisms;
    if (module->C_GetMechanismList(slot, nullptr, &count) == CKR_OK) {
        mechanisms.resize(count);
        if (module->C_GetMechanismList(slot, mechanisms.data(), &count) != CKR_OK) count = 0;
        mechanisms.resize(count);
    }
    out.u64(mechanisms.size());
    for (const auto mechanism : mechanisms) out.u64(mechanism);

    CK_OBJECT_CLASS certificateClass = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_ATTRIBUTE certificates[] = {{CKA_CLASS, &certificateClass, sizeof certificateClass},
                                   {CKA_CERTIFICATE_TYPE, &x509, sizeof x509}};
    const auto certificateHandles = session.find(certificates, 2);
    out.u64(certificateHandles.size());
    for (const auto handle : certificateHandles) {
        out.bytes(session.attribute(handle, CKA_ID)).bytes(session.attribute(handle, CKA_LABEL)).bytes(session.attribute(handle, CKA_VALUE));
    }
    CK_OBJECT_CLASS keyClass = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE keys[] = {{CKA_CLASS, &keyClass, sizeof keyClass}};
    const auto keyHandles = session.find(keys, 1);
    out.u64(keyHandles.size());
    for (const auto handle : keyHandles) {
        out.bytes(session.attribute(handle, CKA_ID)).u64(session.ulongAttribute(handle, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION));
    }
}

void login(Reader& in, Writer& out)
{
    const CK_SLOT_ID slot = in.u64();
    const auto pin = in.view();
    Session session(slot, 0);
    const CK_RV rv = session.opened() != CKR_OK ? session.opened() : session.login(pin);
    out.u64(rv).u64(tokenFlags(slot));
}

void sign(Reader& in, Writer& out)
{
    const CK_SLOT_ID slot = in.u64();
    const auto pin = in.view();
    auto keyId = in.bytes();
    CK_MECHANISM mechanism{in.u64(), nullptr, 0};
    auto data = in.bytes();
    Bytes signature;
    CK_RV rv = CKR_OK;
    {
        Session session(slot, 0);
        rv = session.opened() != CKR_OK ? session.opened() : session.login(pin);
        if (rv == CKR_OK) {
            CK_OBJECT_CLASS keyClass = CKO_PRIVATE_KEY;
            CK_ATTRIBUTE match[] = {{CKA_CLASS, &keyClass, sizeof keyClass}, {CKA_ID, keyId.data(), keyId.size()}};
            const auto keys = session.find(match, 2);
            if (keys.empty()) rv = CKR_KEY_HANDLE_INVALID;
            if (rv == CKR_OK) rv = module->C_SignInit(session.handle(), &mechanism, keys.front());
            CK_ULONG length = 0;
            if (rv == CKR_OK) rv = module->C_Sign(session.handle(), data.data(), data.size(), nullptr, &length);
            if (rv == CKR_OK) {
                signature.resize(length);
                rv = module->C_Sign(session.handle(), data.data(), data.size(), signature.data(), &length);
                signature.resize(rv == CKR_OK ? length : 0);
            }
        }
    }
    out.u64(rv).u64(tokenFlags(slot)).bytes(signature);
}

void setPin(Reader& in, Writer& out)
{
    const CK_SLOT_ID slot = in.u64();
    const auto oldPin = in.view();
    const auto newPin = in.view();
    Session session(slot, CKF_RW_SESSION);
    CK_RV rv = session.opened();
    if (rv == CKR_OK) {
        rv = module->C_SetPIN(session.handle(), reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(oldPin.data())),
                              static_cast<CK_ULONG>(oldPin.size()),
                              reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(newPin.data())),
                              static_cast<CK_ULONG>(newPin.size()));
    }
    out.u64(rv).u64(tokenFlags(slot));
}

bool send(Writer& answer)
{
    auto& frame = answer.frame();
    return writeAll(STDOUT_FILENO, frame.data(), frame.size());
}

/// Loads the module: the greeting's CK_RV is CKR_OK, or why not (with a text).
CK_RV load(const char* path, std::string& description)
{
    void* library = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        description = ::dlerror();
        return CKR_GENERAL_ERROR;
    }
    auto* getFunctionList = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
    if (getFunctionList == nullptr) {
        description = "it has no C_GetFunctionList: not a PKCS#11 module";
        return CKR_GENERAL_ERROR;
    }
    CK_RV rv = getFunctionList(&module);
    if (rv != CKR_OK || module == nullptr) {
        description = "C_GetFunctionList failed";
        return rv != CKR_OK ? rv : CKR_GENERAL_ERROR;
    }
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    rv = module->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        description = "C_Initialize failed";
        return rv;
    }
    CK_INFO info{};
    if (module->C_GetInfo(&info) == CKR_OK) {
        description = trimmed(info.libraryDescription, sizeof info.libraryDescription) + " (" +
                      trimmed(info.manufacturerID, sizeof info.manufacturerID) + ")";
    }
    return CKR_OK;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        static constexpr char kUsage[] = "usage: inkan-p11-helper MODULE (started by inkand, speaking on stdin/stdout)\n";
        (void)!::write(STDERR_FILENO, kUsage, sizeof kUsage - 1);
        return 2;
    }
    std::string description;
    const CK_RV loaded = load(argv[1], description);
    Writer hello;
    hello.u64(loaded).text(description);
    if (!send(hello) || loaded != CKR_OK) return 1;

    for (;;) {
        std::uint8_t prefix[inkan::pkcs11::wire::kLengthBytes];
        if (!readAll(STDIN_FILENO, prefix, sizeof prefix)) break;
        const auto length = inkan::pkcs11::wire::frameLength(prefix);
        if (length == 0 || length > inkan::pkcs11::wire::kMaxFrame) break;
        Bytes request(length);
        if (!readAll(STDIN_FILENO, request.data(), request.size())) break;
        Writer answer;
        try {
            Reader in(request);
            switch (static_cast<Op>(in.u8())) {
            case Op::Slots: slots(answer); break;
            case Op::Objects: objects(in, answer); break;
            case Op::Login: login(in, answer); break;
            case Op::Sign: sign(in, answer); break;
            case Op::SetPin: setPin(in, answer); break;
            default: throw inkan::pkcs11::wire::WireError("unknown request");
            }
        } catch (const inkan::pkcs11::wire::WireError&) {
            wipe(request.data(), request.size());
            break;
        }
        // The PIN, if the request held one, lives nowhere else.
        wipe(request.data(), request.size());
        if (!send(answer)) break;
    }
    module->C_Finalize(nullptr);
    return 0;
}
