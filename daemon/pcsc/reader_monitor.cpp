#include "daemon/pcsc/reader_monitor.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <vector>

#include <winscard.h>

#include "daemon/error.hpp"
#include "daemon/pcsc/context.hpp"
#include "daemon/pcsc/scard_call.hpp"

namespace inkan::pcsc {

namespace {

// The pseudo-reader whose state changes when a reader is added or removed
// (PC/SC part 5 / pcsc-lite SCardGetStatusChange).
constexpr const char* kPnpNotification = R"(\\?PnP?\Notification)";

// pcsc-lite puts a per-reader card event counter in the upper 16 bits of
// dwEventState: a changed counter with a card present both times means the
// card was swapped between two wake-ups.
constexpr DWORD kEventCountShift = 16;
constexpr DWORD kStateFlagsMask = 0xFFFF;

// How often stop() repeats SCardCancel: pcsc-lite drops a cancel that
// arrives while the thread is not (yet) inside SCardGetStatusChange.
constexpr std::chrono::milliseconds kCancelRepeat{20};

}  // namespace

std::string_view toString(ReaderEvent::Kind kind)
{
    switch (kind) {
    case ReaderEvent::Kind::PcscAvailable: return "pcsc-available";
    case ReaderEvent::Kind::PcscUnavailable: return "pcsc-unavailable";
    case ReaderEvent::Kind::ReaderAdded: return "reader-added";
    case ReaderEvent::Kind::ReaderRemoved: return "reader-removed";
    case ReaderEvent::Kind::CardInserted: return "card-inserted";
    case ReaderEvent::Kind::CardRemoved: return "card-removed";
    }
    return "unknown";
}

// What the monitor has published so far about the readers; kept across pcscd
// restarts so that a restart is reported as "everything removed".
struct ReaderMonitor::Watch {
    struct Reader {
        std::string name;
        DWORD currentState = SCARD_STATE_UNAWARE;  // as last reported by pcscd
        bool cardPresent = false;
        Bytes atr;
        DWORD eventCount = 0;
    };

    ReaderEventCallback& publish;
    std::vector<Reader> readers;
    DWORD pnpState = SCARD_STATE_UNAWARE;
    bool pnpSupported = true;

    void emit(ReaderEvent::Kind kind, const std::string& reader = {}, Bytes atr = {})
    {
        // The callback belongs to the service; an exception escaping it must
        // not kill the monitor thread (std::terminate).
        try {
            publish(ReaderEvent{kind, reader, std::move(atr)});
        } catch (const std::exception& e) {
            std::cerr << "inkand: reader event handler failed: " << e.what() << '\n';
        }
    }

    void removeReader(std::vector<Reader>::iterator it)
    {
        if (it->cardPresent) emit(ReaderEvent::Kind::CardRemoved, it->name);
        emit(ReaderEvent::Kind::ReaderRemoved, it->name);
        readers.erase(it);
    }

    void forgetAll()
    {
        while (!readers.empty()) removeReader(readers.begin());
        pnpState = SCARD_STATE_UNAWARE;
    }

    // Bring the list in line with pcscd's; new readers start UNAWARE, so the
    // next SCardGetStatusChange returns at once with their card state.
    void rescan(Context& context)
    {
        const auto names = context.listReaders();
        for (auto it = readers.begin(); it != readers.end();) {
            if (std::find(names.begin(), names.end(), it->name) == names.end()) {
                const auto index = it - readers.begin();
                removeReader(it);
                it = readers.begin() + index;
            } else {
                ++it;
            }
        }
        for (const auto& name : names) {
            const bool known = std::any_of(readers.begin(), readers.end(), [&](const Reader& r) { return r.name == name; });
            if (known) continue;
            Reader reader;
            reader.name = name;
            readers.push_back(std::move(reader));
            emit(ReaderEvent::Kind::ReaderAdded, name);
        }
    }

    // Returns true when the reader went away and a rescan is due.
    bool update(Reader& reader, const SCARD_READERSTATE& state)
    {
        const DWORD event = state.dwEventState;
        if (!(event & SCARD_STATE_CHANGED)) return false;
        reader.currentState = event & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
        if (event & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE | SCARD_STATE_IGNORE)) return true;

        // A mute card (SCARD_STATE_MUTE) is present too: it has no ATR, and
        // the service reports it as an unsupported card.
        const bool present = (event & SCARD_STATE_PRESENT) != 0;
        const auto atrLength = std::min<std::size_t>(state.cbAtr, sizeof state.rgbAtr);
        Bytes atr = present ? Bytes(state.rgbAtr, state.rgbAtr + atrLength) : Bytes{};
        const DWORD eventCount = (event >> kEventCountShift) & kStateFlagsMask;

        const bool swapped = reader.cardPresent && present && (eventCount != reader.eventCount || atr != reader.atr);
        if (reader.cardPresent && (!present || swapped)) emit(ReaderEvent::Kind::CardRemoved, reader.name);
        if (present && (!reader.cardPresent || swapped)) emit(ReaderEvent::Kind::CardInserted, reader.name, atr);
        reader.cardPresent = present;
        reader.atr = std::move(atr);
        reader.eventCount = eventCount;
        return false;
    }
};

ReaderMonitor::ReaderMonitor(ReaderEventCallback onEvent) : onEvent_(std::move(onEvent)) {}

ReaderMonitor::~ReaderMonitor() { stop(); }

void ReaderMonitor::start()
{
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void ReaderMonitor::stop()
{
    if (!thread_.joinable()) return;
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    while (!exited_) {
        if (context_) context_->cancel();
        wake_.wait_for(lock, kCancelRepeat, [this] { return exited_; });
    }
    lock.unlock();
    thread_.join();
}

bool ReaderMonitor::sleepUnlessStopped(std::chrono::milliseconds duration)
{
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, duration, [this] { return stopping_; });
}

void ReaderMonitor::run()
{
    Watch state{onEvent_, {}, SCARD_STATE_UNAWARE, true};
    bool reportedUnavailable = false;

    for (;;) {
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) break;
        }
        try {
            Context context;
            {
                const std::lock_guard lock(mutex_);
                if (stopping_) break;
                context_ = &context;
            }
            struct Detach {  // the context dies at the end of this block
                ReaderMonitor& monitor;
                ~Detach()
                {
                    const std::lock_guard lock(monitor.mutex_);
                    monitor.context_ = nullptr;
                }
            } detach{*this};

            reportedUnavailable = false;
            state.emit(ReaderEvent::Kind::PcscAvailable);
            watch(context, state);
            break;  // watch() returns only when stopping
        } catch (const std::exception& e) {
            // pcscd gone (or never there): report everything removed, then try
            // again shortly. Other failures are unexpected; starting over beats
            // a daemon that silently stopped seeing cards.
            // PcscUnavailable goes first, so that whoever hears about the
            // removals that follow knows why the cards went away.
            const auto* error = dynamic_cast<const Error*>(&e);
            if (error && error->code() == ErrorCode::PcscUnavailable) {
                if (!reportedUnavailable) {
                    std::cerr << "inkand: PC/SC is unavailable (" << e.what() << "); retrying every "
                              << kServiceRetryInterval.count() << " ms\n";
                    state.emit(ReaderEvent::Kind::PcscUnavailable);
                    reportedUnavailable = true;
                }
            } else {
                std::cerr << "inkand: reader monitor: " << e.what() << "; starting over\n";
            }
            state.forgetAll();
        }
        if (!sleepUnlessStopped(kServiceRetryInterval)) break;
    }

    const std::lock_guard lock(mutex_);
    exited_ = true;
    wake_.notify_all();
}

void ReaderMonitor::watch(Context& context, Watch& state)
{
    state.rescan(context);
    for (;;) {
        // One entry per known reader, then the PnP pseudo-reader. The names
        // point into `state.readers`, which is not touched until the call returns.
        std::vector<SCARD_READERSTATE> states(state.readers.size() + (state.pnpSupported ? 1 : 0));
        for (std::size_t i = 0; i < state.readers.size(); ++i) {
            states[i].szReader = state.readers[i].name.c_str();
            states[i].dwCurrentState = state.readers[i].currentState;
        }
        if (state.pnpSupported) {
            states.back().szReader = kPnpNotification;
            states.back().dwCurrentState = state.pnpState;
        }

        const auto result =
            scardCall("SCardGetStatusChange",
                      SCardGetStatusChange(context.handle(), INFINITE, states.data(), static_cast<DWORD>(states.size())),
                      {SCARD_E_CANCELLED, SCARD_E_UNKNOWN_READER, SCARD_E_TIMEOUT});
        if (result == SCARD_E_CANCELLED || result == SCARD_E_TIMEOUT) {
            const std::lock_guard lock(mutex_);
            if (stopping_) return;
            continue;
        }
        if (result == SCARD_E_UNKNOWN_READER) {  // a reader left between listing and waiting
            state.rescan(context);
            continue;
        }

        bool rescan = false;
        for (std::size_t i = 0; i < state.readers.size(); ++i) rescan |= state.update(state.readers[i], states[i]);
        if (state.pnpSupported) {
            const auto& pnp = states.back();
            if (pnp.dwEventState & SCARD_STATE_UNKNOWN) {
                // Without PnP notifications readers plugged in later are only
                // seen after a pcscd restart; pcsc-lite has supported them for
                // years, so this is worth a line in the log, not a polling loop.
                std::cerr << "inkand: PC/SC has no reader notifications; new readers need a restart\n";
                state.pnpSupported = false;
            } else if (pnp.dwEventState & SCARD_STATE_CHANGED) {
                state.pnpState = pnp.dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
                rescan = true;
            }
        }
        if (rescan) state.rescan(context);
    }
}

}  // namespace inkan::pcsc
