// inkan — the card service: the CardAgent the daemon's front ends use.
//
//   auto agent = inkan::service::makeCardService();   // starts watching readers
//   agent->cards([](inkan::Outcome<std::vector<inkan::CardSummary>> r) { ... });
//   ...
//   agent->shutdown();                                 // before destroying it
//
// How it works: a reader monitor (its own thread, blocking in PC/SC) feeds a
// registry of readers and cards. Each supported card that is inserted gets a
// worker thread that runs one operation at a time, each in one card
// transaction; its first operation reads the card's identity, certificates and
// PIN status, which stay cached while the card stays in the reader.
//
// Threads and completions:
//   * operations on a card (pinStatus, verifyPin, changePin, unblockPin, sign)
//     complete on that card's worker thread;
//   * status() and cards() copy the registry (no APDU, a short lock) and
//     complete on the caller's thread: they are the listings every page
//     load asks for, and a hop to another thread cost more than the copy;
//   * card() and certificate() answer from the registry without sending
//     APDUs, and so do refusals before any card is involved (unknown card id
//     -> CardNotFound, or PcscUnavailable while pcscd is down): these
//     complete on the service's own dispatch thread;
//   * after shutdown() has begun, calls complete with Busy on the caller's thread.
// Completions never run while the service holds a lock, so they may call the
// service again. They must not call shutdown() or destroy the service.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "daemon/cert/certificate.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/card_backend.hpp"
#include "daemon/service/event_bus.hpp"

namespace inkan::service {

struct CardServiceOptions {
    /// Where readers, cards and APDUs come from; null: the system's PC/SC service.
    std::shared_ptr<CardBackend> backend;
    /// Receives one line per card event and operation (never a PIN or a
    /// digest); null: written to stderr as "inkand: <line>".
    std::function<void(std::string_view line)> log;
    /// When another application holds a newly inserted card exclusively,
    /// reading it is retried this often, this many times.
    std::chrono::milliseconds busyRetryInterval{500};
    int busyRetries = 20;
    /// Where reader, card, PIN and certificate-expiry events are published
    /// (docs/events.md); null: nowhere.
    std::shared_ptr<EventBus> events;
    /// A certificate expiring within this many days is announced as
    /// certificate-expiring when its card is inserted.
    int certificateExpiryWarningDays = cert::kDefaultExpiryWarningDays;
    /// The time certificate expiry is judged at; null: the system clock.
    std::function<std::chrono::system_clock::time_point()> now;
};

/// Creates the service and starts watching readers.
std::unique_ptr<CardAgent> makeCardService(CardServiceOptions options = {});

}  // namespace inkan::service
