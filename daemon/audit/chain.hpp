// inkan — the 使用簿's file format, shared by inkand (which appends) and the
// `inkan log verify` command (which checks): JSON Lines segments under the
// audit directory, each record carrying the SHA-256 of the one before it
// (docs/audit.md "The chain").
//
// A record is one line:   {"seq":N,"prev":"<64 hex>",...,"hash":"<64 hex>"}\n
// where `hash` is the SHA-256 of the line's bytes before `,"hash":` and
// `prev` is the previous record's `hash` (64 zeros for record 1). Segments
// are named ledger-NNNNNN.jsonl; the first record of a segment chains to the
// last record of the segment before it. This file knows no HTTP and no card.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace inkan::audit {

/// The `prev` of the very first record.
inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr std::string_view kSegmentPrefix = "ledger-";
inline constexpr std::string_view kSegmentSuffix = ".jsonl";
/// What separates a record's hashed part from its own hash.
inline constexpr std::string_view kHashMember = ",\"hash\":\"";

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256Hex(std::string_view bytes);

/// The segment file of number `n` (1-based) in `dir`.
std::filesystem::path segmentPath(const std::filesystem::path& dir, std::uint64_t n);

/// The segments in `dir`, in chain order (by number); non-ledger files are ignored.
std::vector<std::filesystem::path> listSegments(const std::filesystem::path& dir);

/// Seal `body` (an ordered JSON object whose first members are seq and prev,
/// without `hash`) into a line (without the newline); `hashOut` gets its hash.
std::string sealRecord(const nlohmann::ordered_json& body, std::string* hashOut = nullptr);

/// The hash a line claims and the hash its bytes have; nullopt when the line
/// has no hash member at its end.
struct LineHashes {
    std::string claimed;
    std::string actual;
};
std::optional<LineHashes> hashesOf(std::string_view line);

/// The result of walking the chain.
struct VerifyResult {
    bool ok = true;
    std::uint64_t records = 0;   // records that fit, before the first that does not
    std::uint64_t firstSeq = 0;  // seq of the first record (above 1 when older segments were removed)
    std::string lastHash;        // hash of the last record that fits
    // When !ok: where the chain breaks and why.
    std::filesystem::path file;
    std::uint64_t line = 0;           // 1-based line in `file`
    std::optional<std::uint64_t> seq;  // the seq the bad record claims, when it could be read
    std::uint64_t expectedSeq = 0;
    std::string reason;
};

/// Walk every segment of `dir`. An empty or missing directory verifies (0 records).
VerifyResult verifyChain(const std::filesystem::path& dir);

}  // namespace inkan::audit
