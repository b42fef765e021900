// inkan — where the card service gets its readers, cards and APDUs from.
//
// The real backend is PC/SC (pcscd); tests plug in a fake that replays
// scripted cards without pcscd.
#pragma once

#include <memory>
#include <string>

#include "daemon/pcsc/reader_monitor.hpp"
#include "daemon/pcsc/transport.hpp"

namespace inkan::service {

class CardBackend {
public:
    virtual ~CardBackend() = default;

    /// Start publishing reader and card events (one thread, in order; see
    /// pcsc::ReaderMonitor for the event sequence).
    virtual void start(pcsc::ReaderEventCallback onEvent) = 0;
    /// Stop publishing; no event arrives after this returns.
    virtual void stop() = 0;
    /// Connect to the card in `reader`. Blocking; called on the card's worker thread.
    virtual std::unique_ptr<pcsc::CardHandle> connect(const std::string& reader) = 0;
};

/// The system's PC/SC service: pcsc::ReaderMonitor + pcsc::CardConnection.
std::shared_ptr<CardBackend> makePcscBackend();

}  // namespace inkan::service
