// inkan — which connection gives way when the server is full. The server
// (api/server.cpp) asks on every accepted connection; this file decides
// without sockets, so the rule is tested on its own.
//
// A connection that has not finished its TLS handshake or has not sent a
// complete request yet ("pending") costs its opener nothing: a process can
// hold hundreds of them. They must not lock out the portal and the CLI, so
// when the server is full the oldest pending connection is closed for the
// newcomer, and pending connections may never fill the last few slots, which
// stay for connections that have sent a request. Only when every slot is held
// by such a connection is the newcomer refused (docs/security.md "Connection limit").
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

namespace inkan::api {

/// What the server knows of one open connection when another arrives.
struct OpenConnection {
    std::chrono::steady_clock::time_point accepted;
    /// TLS is done and at least one request has arrived.
    bool established = false;
};

struct CapDecision {
    enum class Kind {
        Admit,           // there is room
        EvictAndAdmit,   // close `victim` (an index into the open connections), then admit
        Refuse,          // every slot is held by an established connection
    };
    Kind kind = Kind::Admit;
    std::size_t victim = 0;
};

/// The rule of the header comment for a newcomer, given the `open` connections
/// (those already chosen for eviction left out): at most `maxConnections` in
/// all, and at most `maxConnections - reserved` pending ones (at least one).
CapDecision decideAdmission(std::span<const OpenConnection> open, std::size_t maxConnections, std::size_t reserved);

}  // namespace inkan::api
