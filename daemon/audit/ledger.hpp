// inkan — the 使用簿: inkand's tamper-evident ledger of every use of a card
// (docs/audit.md). Knows no HTTP and no APDU: the layer that wraps card
// access (daemon/audit/audited_access.*, the pairing routes) tells it what
// happens, as typed fields — never a request body, never a PIN.
//
// Each operation is two records: an `intent`, durable (write + fdatasync)
// before the operation starts, and a `done` with the outcome, durable before
// the answer leaves inkand. When either cannot be written, the call throws
// Error(AuditUnavailable) and the caller must not go on. On start an intent
// without its done (inkand was killed) is closed by an `interrupted` record.
// Records are chained by SHA-256 (chain.hpp) and the files rotated by size.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/platform/filesystem.hpp"

namespace inkan::audit {

/// Who asked.
struct Who {
    enum class Kind { Local, Console, Origin };
    Kind kind = Kind::Local;
    std::string origin;    // Console and Origin
    std::string standing;  // Origin: "allowlisted", "paired" or "unknown"
    std::string session;   // Console: the public id of its login session
    /// The local client's OS user and program, from the owner of its socket,
    /// once the server looks that up; empty until then (and never guessed).
    std::string osUser;
    std::string program;
};

/// The card (or other credential) and certificate an operation used.
struct Credential {
    std::string cardId;
    std::string kind = "card";  // the credential's kind: a smart card
    std::string profile;
    std::string label;
    std::string certificateId;
    std::string certificateSerial;
    std::string corporateName;    // 商号, from the certificate's registry extension
    std::string corporateNumber;  // 会社法人等番号
};

/// One operation, as its intent records it.
struct Entry {
    std::string operation;  // "sign", "pin.verify", "pin.change", "pin.unblock", "selftest", "pairing.approve", ...
    Who who;
    std::string requestId;
    Credential credential;
    // What was signed: the digest handed to the card.
    std::string digestAlgorithm;  // "SHA-256", ...
    std::string digest;           // lower-case hex
    /// What else the operation concerned, e.g. the origin a pairing is for.
    std::string target;
};

/// How it ended, as its done record says.
struct Result {
    std::string outcome = "ok";  // "ok" or the problem code
    std::optional<int> triesLeft;
    /// The credential as known once the card answered (the certificate used); empty: as in the intent.
    std::optional<Credential> credential;
};

struct LedgerOptions {
    std::filesystem::path dir;  // <state>/audit
    /// A segment is closed when the next record would take it over this size.
    std::uint64_t segmentBytes = 4U * 1024U * 1024U;
    /// Segments kept (the oldest are deleted beyond it); 0: all.
    int keepSegments = 0;
    /// Every record as written (one JSON line) and notices about the ledger,
    /// for the system log; null: none.
    std::function<void(std::string_view line)> mirror;
    /// The clock (tests); null: the system clock.
    std::function<std::chrono::system_clock::time_point()> now;
};

/// A filter on operations, as GET /v1/audit and `inkan log` take it.
struct Query {
    std::optional<std::chrono::sys_seconds> since;  // started at or after
    std::optional<std::chrono::sys_seconds> until;  // started before
    std::string card;    // card id; empty: any
    std::string origin;  // a web origin, or "local" for the local client; empty: any
    std::uint64_t after = 0;  // only operations whose intent seq is above this (paging)
    std::size_t limit = 100;
};

struct Page {
    /// One object per operation, oldest first: the intent joined with its end.
    std::vector<nlohmann::ordered_json> operations;
    /// The `after` of the next page, when there may be one.
    std::optional<std::uint64_t> next;
};

class Ledger {
public:
    /// Opens (creating) the directory, repairs a torn last line and closes
    /// interrupted intents. A ledger that cannot be opened is not an error
    /// here: it is retried at each write, and writes refuse until it opens.
    explicit Ledger(LedgerOptions options);
    ~Ledger();

    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    /// The intent of an operation, durable on return; its seq, for finish().
    /// Throws Error(AuditUnavailable).
    std::uint64_t begin(const Entry& entry);
    /// The done record of the intent `intentSeq`, durable on return.
    /// Throws Error(AuditUnavailable); the done is then kept, with the outcome
    /// AUDIT_UNAVAILABLE (the caller withholds the answer), and written before
    /// the next record, so no intent stays open while inkand runs.
    void finish(std::uint64_t intentSeq, const Entry& entry, const Result& result);

    /// Operations matching `query`.
    Page operations(const Query& query) const;

    const std::filesystem::path& dir() const noexcept { return options_.dir; }

private:
    void openLocked();
    void flushLateLocked();
    void recoverLocked();
    std::uint64_t appendLocked(nlohmann::ordered_json fields);
    void rotateLocked();
    void mirror(std::string_view line) const;

    LedgerOptions options_;
    mutable std::mutex mutex_;
    platform::AppendFile file_;  // the open segment
    std::uint64_t segment_ = 0;  // number of the open segment
    std::uint64_t size_ = 0;     // its size
    std::uint64_t seq_ = 0;      // last record written
    std::string prev_;           // its hash
    std::vector<nlohmann::ordered_json> late_;  // done records that could not be written yet
};

/// The record fields of a time: {"time": UTC, "timeJst": +09:00}, milliseconds.
std::string formatUtc(std::chrono::system_clock::time_point at);
std::string formatJst(std::chrono::system_clock::time_point at);

}  // namespace inkan::audit
