#include "daemon/pcsc/context.hpp"

#include <string_view>

#include "daemon/error.hpp"
#include "daemon/pcsc/scard_call.hpp"

namespace inkan::pcsc {

Context::Context() { establish(); }

Context::~Context() { release(); }

void Context::establish()
{
    SCARDCONTEXT handle = 0;
    scardCall("SCardEstablishContext", SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &handle));
    handle_ = handle;
    valid_ = true;
}

void Context::release() noexcept
{
    if (!valid_) return;
    // Nothing useful can be done when releasing fails (pcscd already gone):
    // the client library frees its side of the context either way.
    valid_ = false;
    (void)SCardReleaseContext(handle_.exchange(0));
}

void Context::reestablish()
{
    release();
    establish();
}

void Context::cancel() noexcept
{
    if (valid_) (void)SCardCancel(handle_.load());
}

std::vector<std::string> Context::listReaders()
{
    try {
        return listReadersOnce();
    } catch (const Error& e) {
        if (e.code() != ErrorCode::PcscUnavailable) throw;
    }
    reestablish();
    return listReadersOnce();
}

std::vector<std::string> Context::listReadersOnce()
{
    // Ask for the size, then for the list. A reader plugged in between the two
    // calls makes the buffer too small: ask again.
    for (int attempt = 0; attempt < 3; ++attempt) {
        DWORD size = 0;
        if (scardCall("SCardListReaders", SCardListReaders(handle(), nullptr, nullptr, &size),
                      {SCARD_E_NO_READERS_AVAILABLE}) != SCARD_S_SUCCESS) {
            return {};
        }
        std::string buffer(size, '\0');
        const auto result = scardCall("SCardListReaders", SCardListReaders(handle(), nullptr, buffer.data(), &size),
                                      {SCARD_E_NO_READERS_AVAILABLE, SCARD_E_INSUFFICIENT_BUFFER});
        if (result == SCARD_E_NO_READERS_AVAILABLE) return {};
        if (result == SCARD_E_INSUFFICIENT_BUFFER) continue;
        buffer.resize(size);

        // A multi-string: names separated by NUL, ended by an empty name.
        std::vector<std::string> readers;
        std::string_view rest(buffer);
        while (!rest.empty() && rest.front() != '\0') {
            const auto end = rest.find('\0');
            readers.emplace_back(rest.substr(0, end));
            if (end == std::string_view::npos) break;
            rest.remove_prefix(end + 1);
        }
        return readers;
    }
    throw Error(ErrorCode::Internal, "SCardListReaders: the reader list kept changing while being read");
}

}  // namespace inkan::pcsc
