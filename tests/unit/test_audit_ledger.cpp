// The 使用簿's ledger (daemon/audit/): the hash chain, rotation into chained
// segments, verification naming the first bad record, recovery of intents
// left open and of a torn last line, refusal when the directory is unusable.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/audit/chain.hpp"
#include "daemon/audit/ledger.hpp"
#include "daemon/error.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace inkan;
using namespace inkan::audit;
namespace fs = std::filesystem;

namespace {

Entry signEntry(int n)
{
    Entry entry;
    entry.operation = "sign";
    entry.requestId = "request-" + std::to_string(n);
    entry.credential.cardId = "CARD1";
    entry.credential.corporateName = "株式会社いんかん商事";
    entry.digestAlgorithm = "SHA-256";
    entry.digest = std::string(64, 'a');
    return entry;
}

LedgerOptions optionsFor(const fs::path& dir, std::uint64_t segmentBytes = 1024 * 1024)
{
    LedgerOptions options;
    options.dir = dir;
    options.segmentBytes = segmentBytes;
    return options;
}

void signOnce(Ledger& ledger, int n)
{
    const Entry entry = signEntry(n);
    const auto intent = ledger.begin(entry);
    ledger.finish(intent, entry, Result{});
}

std::vector<std::string> linesOf(const fs::path& file)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void writeLines(const fs::path& file, const std::vector<std::string>& lines)
{
    std::ofstream out(file, std::ios::trunc | std::ios::binary);
    for (const auto& line : lines) out << line << '\n';
}

}  // namespace

TEST_CASE("audit ledger: records chain by SHA-256 and verify")
{
    test::TempDir dir("inkan-audit");
    {
        Ledger ledger(optionsFor(dir.path));
        for (int i = 0; i < 3; ++i) signOnce(ledger, i);
    }
    const auto segments = listSegments(dir.path);
    REQUIRE(segments.size() == 1);
    const auto lines = linesOf(segments[0]);
    REQUIRE(lines.size() == 6);
    const auto first = nlohmann::json::parse(lines[0]);
    CHECK(first["seq"] == 1);
    CHECK(first["prev"] == std::string(kGenesisHash));
    CHECK(first["event"] == "intent");
    CHECK(first["credential"]["corporateName"] == "株式会社いんかん商事");
    CHECK(nlohmann::json::parse(lines[1])["prev"] == first["hash"]);
    CHECK(nlohmann::json::parse(lines[1])["intent"] == 1);

    const VerifyResult result = verifyChain(dir.path);
    CHECK(result.ok);
    CHECK(result.records == 6);
    CHECK(result.lastHash == nlohmann::json::parse(lines[5])["hash"]);

    struct stat info{};
    REQUIRE(::stat(segments[0].c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
}

TEST_CASE("audit ledger: verify names the first record that does not fit")
{
    test::TempDir dir("inkan-audit");
    {
        Ledger ledger(optionsFor(dir.path));
        for (int i = 0; i < 3; ++i) signOnce(ledger, i);
    }
    const fs::path file = listSegments(dir.path).at(0);
    const auto lines = linesOf(file);

    SUBCASE("an edited record")
    {
        auto edited = lines;
        edited[2].replace(edited[2].find("request-1"), 9, "request-9");
        writeLines(file, edited);
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.line == 3);
        CHECK(result.seq == 3u);
        CHECK(result.reason.find("edited") != std::string::npos);
    }
    SUBCASE("an edited record whose hash was recomputed breaks the next link")
    {
        auto edited = lines;
        auto record = nlohmann::ordered_json::parse(edited[2]);
        record.erase("hash");
        record["requestId"] = "request-9";
        edited[2] = sealRecord(record);
        writeLines(file, edited);
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.line == 4);
        CHECK(result.reason.find("does not chain") != std::string::npos);
    }
    SUBCASE("a removed record")
    {
        auto removed = lines;
        removed.erase(removed.begin() + 2);
        writeLines(file, removed);
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.expectedSeq == 3);
        CHECK(result.seq == 4u);
    }
    SUBCASE("two records swapped")
    {
        auto swapped = lines;
        std::swap(swapped[2], swapped[3]);
        writeLines(file, swapped);
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.expectedSeq == 3);
    }
    SUBCASE("a truncated last record")
    {
        std::ofstream out(file, std::ios::trunc | std::ios::binary);
        for (std::size_t i = 0; i < lines.size(); ++i) out << (i + 1 < lines.size() ? lines[i] + "\n" : lines[i].substr(0, 20));
        out.close();
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.line == 6);
        CHECK(result.reason.find("truncated") != std::string::npos);
    }
}

TEST_CASE("audit ledger: rotation chains segments and retention keeps the newest")
{
    test::TempDir dir("inkan-audit");
    std::vector<std::string> mirrored;
    {
        LedgerOptions options = optionsFor(dir.path, 1024);
        options.mirror = [&mirrored](std::string_view line) { mirrored.emplace_back(line); };
        Ledger ledger(options);
        for (int i = 0; i < 10; ++i) signOnce(ledger, i);
    }
    const auto segments = listSegments(dir.path);
    REQUIRE(segments.size() > 3);
    for (const auto& segment : segments) CHECK(fs::file_size(segment) <= 1024);
    const auto lastOfFirst = nlohmann::json::parse(linesOf(segments[0]).back());
    const auto firstOfSecond = nlohmann::json::parse(linesOf(segments[1]).front());
    CHECK(firstOfSecond["prev"] == lastOfFirst["hash"]);
    CHECK(verifyChain(dir.path).ok);
    CHECK(verifyChain(dir.path).records == 20);
    CHECK(std::count_if(mirrored.begin(), mirrored.end(), [](const std::string& line) { return line.starts_with("segment "); }) ==
          static_cast<long>(segments.size() - 1));

    SUBCASE("a segment removed from the middle is named")
    {
        fs::remove(segments[1]);
        const auto result = verifyChain(dir.path);
        CHECK_FALSE(result.ok);
        CHECK(result.file == segments[2]);
    }
    SUBCASE("keepSegments removes the oldest; what is left still verifies")
    {
        LedgerOptions options = optionsFor(dir.path, 1024);
        options.keepSegments = 2;
        {
            Ledger ledger(options);
            signOnce(ledger, 99);
            signOnce(ledger, 100);
            signOnce(ledger, 101);
        }
        CHECK(listSegments(dir.path).size() == 2);
        const auto result = verifyChain(dir.path);
        CHECK(result.ok);
        CHECK(result.firstSeq > 1);
    }
}

TEST_CASE("audit ledger: on start an intent without its done is closed as interrupted")
{
    test::TempDir dir("inkan-audit");
    {
        Ledger ledger(optionsFor(dir.path));
        signOnce(ledger, 1);
        (void)ledger.begin(signEntry(2));  // inkand dies here
    }
    Ledger ledger(optionsFor(dir.path));
    const auto lines = linesOf(listSegments(dir.path).at(0));
    REQUIRE(lines.size() == 4);
    const auto closing = nlohmann::json::parse(lines[3]);
    CHECK(closing["event"] == "interrupted");
    CHECK(closing["intent"] == 3);
    CHECK(closing["requestId"] == "request-2");
    CHECK(verifyChain(dir.path).ok);

    const Page page = ledger.operations(Query{});
    REQUIRE(page.operations.size() == 2);
    CHECK(page.operations[0]["result"] == "ok");
    CHECK(page.operations[1]["result"] == "interrupted");

    // A second start adds nothing: every intent is closed.
    { Ledger again(optionsFor(dir.path)); }
    CHECK(linesOf(listSegments(dir.path).at(0)).size() == 4);
}

TEST_CASE("audit ledger: a torn last line is cut off and the cut recorded")
{
    test::TempDir dir("inkan-audit");
    {
        Ledger ledger(optionsFor(dir.path));
        signOnce(ledger, 1);
    }
    const fs::path file = listSegments(dir.path).at(0);
    {
        std::ofstream out(file, std::ios::app | std::ios::binary);
        out << R"({"seq":3,"prev":"abc)";
    }
    { Ledger ledger(optionsFor(dir.path)); }
    const auto lines = linesOf(file);
    REQUIRE(lines.size() == 3);
    const auto repaired = nlohmann::json::parse(lines[2]);
    CHECK(repaired["event"] == "repaired");
    CHECK(repaired["discardedBytes"] == 20);
    CHECK(verifyChain(dir.path).ok);
}

TEST_CASE("audit ledger: an unusable directory refuses with AUDIT_UNAVAILABLE, and recovers")
{
    test::TempDir dir("inkan-audit");
    const fs::path blocked = dir.path / "audit";
    { std::ofstream(blocked) << "a file where the directory should be"; }
    Ledger ledger(optionsFor(blocked));
    try {
        (void)ledger.begin(signEntry(1));
        FAIL("begin() must refuse");
    } catch (const Error& error) {
        CHECK(error.code() == ErrorCode::AuditUnavailable);
    }
    fs::remove(blocked);
    signOnce(ledger, 2);
    CHECK(verifyChain(blocked).ok);
    CHECK(verifyChain(blocked).records == 2);
}

TEST_CASE("audit ledger: operations filter by card, origin, time and page")
{
    test::TempDir dir("inkan-audit");
    auto clock = std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::year(2026) / 4 / 1));
    LedgerOptions options = optionsFor(dir.path);
    options.now = [&clock] { return clock; };
    Ledger ledger(options);
    Entry web = signEntry(1);
    web.who.kind = Who::Kind::Origin;
    web.who.origin = "https://portal.example.jp";
    web.who.standing = "allowlisted";
    const auto intent = ledger.begin(web);
    Result refused;
    refused.outcome = "PIN_INCORRECT";
    refused.triesLeft = 9;
    ledger.finish(intent, web, refused);
    clock += std::chrono::hours(24);
    Entry other = signEntry(2);
    other.credential.cardId = "CARD2";
    signOnce(ledger, 3);
    const auto otherIntent = ledger.begin(other);
    ledger.finish(otherIntent, other, Result{});

    CHECK(ledger.operations(Query{}).operations.size() == 3);
    Query byOrigin;
    byOrigin.origin = "https://portal.example.jp";
    const auto webOps = ledger.operations(byOrigin).operations;
    REQUIRE(webOps.size() == 1);
    CHECK(webOps[0]["result"] == "PIN_INCORRECT");
    CHECK(webOps[0]["triesLeft"] == 9);
    CHECK(webOps[0]["timeJst"] == "2026-04-01T09:00:00.000+09:00");
    Query local;
    local.origin = "local";
    CHECK(ledger.operations(local).operations.size() == 2);
    Query byCard;
    byCard.card = "CARD2";
    CHECK(ledger.operations(byCard).operations.size() == 1);
    Query since;
    since.since = std::chrono::sys_days(std::chrono::year(2026) / 4 / 2);
    CHECK(ledger.operations(since).operations.size() == 2);
    Query page;
    page.limit = 2;
    const Page first = ledger.operations(page);
    REQUIRE(first.operations.size() == 2);
    REQUIRE(first.next);
    page.after = *first.next;
    const Page second = ledger.operations(page);
    CHECK(second.operations.size() == 1);
    CHECK_FALSE(second.next);
}

TEST_CASE("audit ledger: after a damaged last record the numbering goes on, and verify names the damage")
{
    test::TempDir dir("inkan-audit");
    {
        Ledger ledger(optionsFor(dir.path));
        signOnce(ledger, 1);
    }
    const fs::path file = listSegments(dir.path).at(0);
    auto lines = linesOf(file);
    lines[1] = "this was record 2";
    writeLines(file, lines);
    {
        Ledger ledger(optionsFor(dir.path));
        signOnce(ledger, 2);
    }
    lines = linesOf(file);
    // The intent whose done cannot be read any more is closed as interrupted, numbered on.
    REQUIRE(lines.size() == 5);
    CHECK(nlohmann::json::parse(lines[2])["seq"] == 3);
    CHECK(nlohmann::json::parse(lines[2])["event"] == "interrupted");
    CHECK(nlohmann::json::parse(lines[4])["seq"] == 5);
    const auto result = verifyChain(dir.path);
    CHECK_FALSE(result.ok);
    CHECK(result.line == 2);
}
