// inkan — an RAII PC/SC context (SCARDCONTEXT).
//
// One context per thread that talks to pcscd: pcsc-lite serialises the calls
// made on one context, and SCardGetStatusChange holds it for as long as it
// blocks, so the reader monitor and each card worker own their own.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <winscard.h>

namespace inkan::pcsc {

class Context {
public:
    /// Establishes a context. Throws inkan::Error(PcscUnavailable) when pcscd is not running.
    Context();
    ~Context();

    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    SCARDCONTEXT handle() const noexcept { return handle_.load(); }

    /// Release the current context and establish a new one, for after pcscd
    /// restarted (SCARD_E_NO_SERVICE / SCARD_E_SERVICE_STOPPED): a context
    /// from the old pcscd stays dead forever.
    void reestablish();

    /// The names of the readers pcscd knows, in its order; empty when there
    /// are none. When the service turns out to have restarted since the
    /// context was established, re-establishes once and asks again.
    std::vector<std::string> listReaders();

    /// Wake up a thread blocked in SCardGetStatusChange on this context
    /// (it returns SCARD_E_CANCELLED). Safe to call from any thread.
    void cancel() noexcept;

private:
    void establish();
    void release() noexcept;
    std::vector<std::string> listReadersOnce();

    // Atomic because cancel() may come from another thread while the owner
    // re-establishes; cancelling a just-released context is harmless.
    std::atomic<SCARDCONTEXT> handle_{0};
    std::atomic<bool> valid_{false};
};

}  // namespace inkan::pcsc
