#include "daemon/audit/chain.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include <openssl/evp.h>

#include "daemon/hex.hpp"

namespace inkan::audit {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kSegmentDigits = 6;
constexpr std::size_t kHashHexLength = 64;

std::optional<std::uint64_t> segmentNumber(const fs::path& file)
{
    const std::string name = file.filename().string();
    if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return std::nullopt;
    const std::string digits = name.substr(kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    return std::stoull(digits);
}

std::string readAll(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string sha256Hex(std::string_view bytes)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    return hexEncode(std::span<const std::uint8_t>(digest.data(), length));
}

fs::path segmentPath(const fs::path& dir, std::uint64_t n)
{
    std::string digits = std::to_string(n);
    if (digits.size() < kSegmentDigits) digits.insert(0, kSegmentDigits - digits.size(), '0');
    return dir / (std::string(kSegmentPrefix) + digits + std::string(kSegmentSuffix));
}

std::vector<fs::path> listSegments(const fs::path& dir)
{
    std::vector<std::pair<std::uint64_t, fs::path>> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (const auto n = segmentNumber(it->path())) found.emplace_back(*n, it->path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> segments;
    for (auto& entry : found) segments.push_back(std::move(entry.second));
    return segments;
}

std::string sealRecord(const nlohmann::ordered_json& body, std::string* hashOut)
{
    std::string line = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line.pop_back();  // the closing brace: the hash member goes before it
    std::string hash = sha256Hex(line);
    line += kHashMember;
    line += hash;
    line += "\"}";
    if (hashOut) *hashOut = std::move(hash);
    return line;
}

std::optional<LineHashes> hashesOf(std::string_view line)
{
    const std::size_t at = line.rfind(kHashMember);
    if (at == std::string_view::npos || line.size() != at + kHashMember.size() + kHashHexLength + 2 || !line.ends_with("\"}")) {
        return std::nullopt;
    }
    return LineHashes{std::string(line.substr(at + kHashMember.size(), kHashHexLength)), sha256Hex(line.substr(0, at))};
}

VerifyResult verifyChain(const fs::path& dir)
{
    VerifyResult result;
    std::string prev;
    std::uint64_t expected = 0;
    auto fail = [&result](const fs::path& file, std::uint64_t line, std::string reason) {
        result.ok = false;
        result.file = file;
        result.line = line;
        result.reason = std::move(reason);
        return result;
    };

    for (const fs::path& file : listSegments(dir)) {
        const std::string content = readAll(file);
        std::size_t start = 0;
        std::uint64_t lineNo = 0;
        while (start < content.size()) {
            ++lineNo;
            const std::size_t end = content.find('\n', start);
            result.expectedSeq = expected == 0 ? 1 : expected;
            if (end == std::string::npos) return fail(file, lineNo, "truncated: the last line has no end");
            const std::string_view line(content.data() + start, end - start);
            start = end + 1;

            nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object()) return fail(file, lineNo, "not a JSON record (edited or damaged)");
            if (const auto seq = record.find("seq"); seq != record.end() && seq->is_number_unsigned()) result.seq = seq->get<std::uint64_t>();
            else result.seq.reset();
            const auto hashes = hashesOf(line);
            if (!hashes || !result.seq) return fail(file, lineNo, "not a ledger record (no seq or hash)");
            if (hashes->claimed != hashes->actual) return fail(file, lineNo, "edited: its content does not match its hash");
            const auto prevField = record.find("prev");
            const std::string claimedPrev = prevField != record.end() && prevField->is_string() ? prevField->get<std::string>() : "";
            if (expected == 0) {
                // The first record there is: record 1, or the first kept after retention removed older segments.
                result.firstSeq = *result.seq;
                if (*result.seq == 1 && claimedPrev != kGenesisHash) return fail(file, lineNo, "record 1 does not start the chain");
            } else {
                if (*result.seq != expected) {
                    return fail(file, lineNo, "record " + std::to_string(*result.seq) + " where record " + std::to_string(expected) +
                                                  " belongs: records were removed or reordered");
                }
                if (claimedPrev != prev) return fail(file, lineNo, "does not chain to the record before it");
            }
            prev = hashes->claimed;
            expected = *result.seq + 1;
            ++result.records;
            result.lastHash = prev;
        }
    }
    result.seq.reset();
    return result;
}

}  // namespace inkan::audit
