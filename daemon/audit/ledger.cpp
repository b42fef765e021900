#include "daemon/audit/ledger.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <system_error>

#include "daemon/audit/chain.hpp"
#include "daemon/error.hpp"
#include "daemon/platform/filesystem.hpp"

namespace inkan::audit {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr auto kJstOffset = std::chrono::hours(9);  // JST is UTC+9, without daylight saving time
constexpr std::size_t kMaxLimit = 1000;
// Recovery looks for intents without their end in this many last segments:
// a done follows its intent within seconds, never segments later.
constexpr std::size_t kRecoverySegments = 2;

/// Milliseconds since the epoch: years a nanosecond clock cannot hold (a filter's "2999-01-01") still format.
std::string formatAt(std::chrono::sys_time<std::chrono::milliseconds> at, std::chrono::hours offset, std::string_view suffix)
{
    const auto shifted = at + offset;
    const auto seconds = std::chrono::floor<std::chrono::seconds>(shifted);
    const auto millis = (shifted - seconds).count();
    const auto t = static_cast<std::time_t>(seconds.time_since_epoch().count());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(millis));
    return std::string(buffer) + std::string(suffix);
}

[[noreturn]] void unavailable(const std::string& what, int error)
{
    throw Error(ErrorCode::AuditUnavailable,
                "the usage ledger cannot be written (" + what + ": " + std::strerror(error) + "); nothing was sent to the card");
}

Json whoJson(const Who& who)
{
    Json json;
    switch (who.kind) {
    case Who::Kind::Local:
        json["kind"] = "local";
        if (!who.osUser.empty()) json["osUser"] = who.osUser;
        if (!who.program.empty()) json["program"] = who.program;
        break;
    case Who::Kind::Console:
        json["kind"] = "console";
        json["origin"] = who.origin;
        if (!who.session.empty()) json["session"] = who.session;
        break;
    case Who::Kind::Origin:
        json["kind"] = "origin";
        json["origin"] = who.origin;
        if (!who.standing.empty()) json["standing"] = who.standing;
        break;
    }
    return json;
}

Json credentialJson(const Credential& credential)
{
    Json json;
    auto put = [&json](const char* name, const std::string& value) {
        if (!value.empty()) json[name] = value;
    };
    put("cardId", credential.cardId);
    put("kind", credential.kind);
    put("profile", credential.profile);
    put("label", credential.label);
    put("certificateId", credential.certificateId);
    put("certificateSerial", credential.certificateSerial);
    put("corporateName", credential.corporateName);
    put("corporateNumber", credential.corporateNumber);
    return json;
}

std::string readFile(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The complete lines of a file, each parsed (unparsable ones are skipped).
std::vector<nlohmann::json> recordsOf(const fs::path& file)
{
    std::vector<nlohmann::json> records;
    const std::string content = readFile(file);
    std::size_t start = 0;
    for (std::size_t end; (end = content.find('\n', start)) != std::string::npos; start = end + 1) {
        auto record = nlohmann::json::parse(std::string_view(content).substr(start, end - start), nullptr, false);
        if (!record.is_discarded() && record.is_object()) records.push_back(std::move(record));
    }
    return records;
}

std::uint64_t seqOf(const nlohmann::json& record)
{
    const auto it = record.find("seq");
    return it != record.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string stringOf(const nlohmann::json& record, const char* name)
{
    const auto it = record.find(name);
    return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string formatUtc(std::chrono::system_clock::time_point at)
{
    return formatAt(std::chrono::floor<std::chrono::milliseconds>(at), std::chrono::hours(0), "Z");
}

std::string formatJst(std::chrono::system_clock::time_point at)
{
    return formatAt(std::chrono::floor<std::chrono::milliseconds>(at), kJstOffset, "+09:00");
}

Ledger::Ledger(LedgerOptions options) : options_(std::move(options))
{
    std::lock_guard lock(mutex_);
    try {
        openLocked();
    } catch (const std::exception& e) {
        mirror(std::string("the usage ledger is not writable yet; signing and PIN changes are refused until it is: ") + e.what());
    }
}

Ledger::~Ledger() = default;

void Ledger::mirror(std::string_view line) const
{
    if (options_.mirror) options_.mirror(line);
}

void Ledger::openLocked()
{
    std::error_code ec;
    fs::create_directories(options_.dir, ec);
    if (ec) unavailable("create " + options_.dir.string(), ec.value());
    platform::tightenDirectory(options_.dir);

    const auto segments = listSegments(options_.dir);
    segment_ = segments.empty() ? 1 : std::stoull(segments.back().filename().string().substr(kSegmentPrefix.size()));
    const fs::path file = segmentPath(options_.dir, segment_);
    file_ = platform::AppendFile::open(file, ec);
    if (ec) unavailable("open " + file.string(), ec.value());
    try {
        recoverLocked();
    } catch (...) {
        // Not recovered (no room for the interrupted records): retried as a whole at the next write.
        file_.close();
        throw;
    }
}

void Ledger::recoverLocked()
{
    const auto segments = listSegments(options_.dir);
    const fs::path current = segmentPath(options_.dir, segment_);
    // A line the kernel never finished (power loss mid-write) was never
    // durable, so never answered: it is cut off, and the cut is recorded.
    std::string content = readFile(current);
    std::uint64_t discarded = 0;
    if (!content.empty() && content.back() != '\n') {
        const std::size_t keep = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
        discarded = content.size() - keep;
        if (const auto ec = file_.truncate(keep)) unavailable("repair " + current.string(), ec.value());
        content.resize(keep);
    }
    size_ = content.size();

    // The chain continues from the last record there is.
    seq_ = 0;
    prev_ = std::string(kGenesisHash);
    for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        const std::string text = *it == current ? content : readFile(*it);
        if (text.empty()) continue;
        const std::size_t begin = text.size() >= 2 ? text.rfind('\n', text.size() - 2) : std::string::npos;
        const std::string_view last = std::string_view(text).substr(begin == std::string::npos ? 0 : begin + 1);
        const std::string_view line = last.substr(0, last.size() - 1);
        const auto record = nlohmann::json::parse(line, nullptr, false);
        const auto hashes = hashesOf(line);
        // A damaged last record still anchors what follows (verify reports the
        // damage); the numbering goes on from the last record that can be read.
        prev_ = hashes ? hashes->claimed : sha256Hex(line);
        seq_ = record.is_discarded() ? 0 : seqOf(record);
        if (seq_ == 0) {
            const auto records = recordsOf(*it);
            const std::uint64_t lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
            seq_ = records.empty() ? lines : seqOf(records.back()) + (lines - records.size());
        }
        break;
    }
    if (discarded > 0) {
        Json fields;
        fields["event"] = "repaired";
        fields["discardedBytes"] = discarded;
        appendLocked(std::move(fields));
    }

    // Intents without their end: inkand stopped between them.
    std::map<std::uint64_t, nlohmann::json> open;
    const std::size_t from = segments.size() > kRecoverySegments ? segments.size() - kRecoverySegments : 0;
    for (std::size_t i = from; i < segments.size(); ++i) {
        for (auto& record : recordsOf(segments[i])) {
            const std::string event = stringOf(record, "event");
            if (event == "intent") {
                open.emplace(seqOf(record), std::move(record));
            } else if (event == "done" || event == "interrupted") {
                const auto intent = record.find("intent");
                if (intent != record.end() && intent->is_number_unsigned()) open.erase(intent->get<std::uint64_t>());
            }
        }
    }
    for (const auto& [seq, intent] : open) {
        Json fields;
        fields["event"] = "interrupted";
        fields["intent"] = seq;
        fields["op"] = stringOf(intent, "op");
        fields["requestId"] = stringOf(intent, "requestId");
        appendLocked(std::move(fields));
    }
}

void Ledger::rotateLocked()
{
    const fs::path file = segmentPath(options_.dir, segment_ + 1);
    std::error_code ec;
    platform::AppendFile next = platform::AppendFile::open(file, ec);
    if (ec) unavailable("open " + file.string(), ec.value());
    platform::syncDirectory(options_.dir);
    file_ = std::move(next);
    ++segment_;
    size_ = 0;
    mirror("segment " + file.filename().string() + " starts after record " + std::to_string(seq_) + " with head " + prev_);
    if (options_.keepSegments > 0) {
        auto segments = listSegments(options_.dir);
        while (segments.size() > static_cast<std::size_t>(options_.keepSegments)) {
            fs::remove(segments.front(), ec);  // best effort: the next rotation tries again
            mirror("removed the old segment " + segments.front().filename().string() + " (keepSegments)");
            segments.erase(segments.begin());
        }
    }
}

std::uint64_t Ledger::appendLocked(Json fields)
{
    const auto now = options_.now ? options_.now() : std::chrono::system_clock::now();
    Json body;
    body["seq"] = seq_ + 1;
    body["prev"] = prev_;
    body["time"] = formatUtc(now);
    body["timeJst"] = formatJst(now);
    for (auto& [key, value] : fields.items()) body[key] = std::move(value);
    std::string hash;
    std::string line = sealRecord(body, &hash);
    line += '\n';

    if (size_ > 0 && size_ + line.size() > options_.segmentBytes) rotateLocked();

    if (const auto ec = file_.append(line)) {
        // No half record stays behind: the next write starts a clean line.
        (void)file_.truncate(size_);
        unavailable("write", ec.value());
    }
    if (const auto ec = file_.sync()) {
        (void)file_.truncate(size_);
        unavailable("fdatasync", ec.value());
    }
    size_ += line.size();
    ++seq_;
    prev_ = std::move(hash);
    line.pop_back();
    mirror(line);
    return seq_;
}

std::uint64_t Ledger::begin(const Entry& entry)
{
    Json fields;
    fields["event"] = "intent";
    fields["op"] = entry.operation;
    if (!entry.requestId.empty()) fields["requestId"] = entry.requestId;
    fields["who"] = whoJson(entry.who);
    if (!entry.credential.cardId.empty()) fields["credential"] = credentialJson(entry.credential);
    if (!entry.digest.empty()) fields["digest"] = Json{{"algorithm", entry.digestAlgorithm}, {"value", entry.digest}};
    if (!entry.target.empty()) fields["target"] = entry.target;

    std::lock_guard lock(mutex_);
    if (!file_.isOpen()) openLocked();
    flushLateLocked();
    return appendLocked(std::move(fields));
}

void Ledger::flushLateLocked()
{
    while (!late_.empty()) {
        appendLocked(late_.front());
        late_.erase(late_.begin());
    }
}

void Ledger::finish(std::uint64_t intentSeq, const Entry& entry, const Result& result)
{
    Json fields;
    fields["event"] = "done";
    fields["intent"] = intentSeq;
    fields["op"] = entry.operation;
    if (!entry.requestId.empty()) fields["requestId"] = entry.requestId;
    fields["outcome"] = result.outcome;
    if (result.triesLeft) fields["triesLeft"] = *result.triesLeft;
    if (result.credential) fields["credential"] = credentialJson(*result.credential);

    std::lock_guard lock(mutex_);
    try {
        if (!file_.isOpen()) openLocked();
        flushLateLocked();
        appendLocked(fields);
    } catch (const Error&) {
        // What the caller answers now: nothing from the card. Its time will be
        // when it is finally written; `delayed` says so.
        fields["outcome"] = std::string(errorCodeName(ErrorCode::AuditUnavailable));
        fields.erase("triesLeft");
        fields["delayed"] = true;
        late_.push_back(std::move(fields));
        throw;
    }
}

Page Ledger::operations(const Query& query) const
{
    std::vector<fs::path> segments;
    std::map<std::uint64_t, Json> operations;
    {
        std::lock_guard lock(mutex_);
        segments = listSegments(options_.dir);
        for (const auto& segment : segments) {
            for (const auto& record : recordsOf(segment)) {
                const std::string event = stringOf(record, "event");
                if (event == "intent") {
                    Json op;
                    op["seq"] = seqOf(record);
                    op["time"] = stringOf(record, "time");
                    op["timeJst"] = stringOf(record, "timeJst");
                    op["operation"] = stringOf(record, "op");
                    if (record.contains("requestId")) op["requestId"] = record["requestId"];
                    op["who"] = record.value("who", nlohmann::json::object());
                    if (record.contains("credential")) op["credential"] = record["credential"];
                    if (record.contains("digest")) op["digest"] = record["digest"];
                    if (record.contains("target")) op["target"] = record["target"];
                    op["result"] = "pending";
                    operations.emplace(seqOf(record), std::move(op));
                } else if (event == "done" || event == "interrupted") {
                    const auto intent = record.find("intent");
                    if (intent == record.end() || !intent->is_number_unsigned()) continue;
                    const auto found = operations.find(intent->get<std::uint64_t>());
                    if (found == operations.end()) continue;
                    Json& op = found->second;
                    op["result"] = event == "done" ? stringOf(record, "outcome") : std::string("interrupted");
                    op["finishedAt"] = stringOf(record, "time");
                    if (record.contains("triesLeft")) op["triesLeft"] = record["triesLeft"];
                    if (record.contains("credential")) {
                        // The certificate the card used, known once it answered.
                        Json credential = op.value("credential", Json::object());
                        for (const auto& [key, value] : record["credential"].items()) credential[key] = value;
                        op["credential"] = std::move(credential);
                    }
                }
            }
        }
    }

    const std::string since = query.since ? formatAt(*query.since, std::chrono::hours(0), "Z") : std::string();
    const std::string until = query.until ? formatAt(*query.until, std::chrono::hours(0), "Z") : std::string();
    const std::size_t limit = std::min(std::max<std::size_t>(query.limit, 1), kMaxLimit);
    Page page;
    for (auto& [seq, op] : operations) {
        if (seq <= query.after) continue;
        const std::string time = op.value("time", "");
        if (!since.empty() && time < since) continue;
        if (!until.empty() && time >= until) continue;
        if (!query.card.empty() && op.value("credential", Json::object()).value("cardId", "") != query.card) continue;
        if (!query.origin.empty()) {
            const Json& who = op["who"];
            const std::string origin = who.value("kind", "") == "local" ? std::string("local") : who.value("origin", "");
            if (origin != query.origin) continue;
        }
        if (page.operations.size() == limit) {
            page.next = page.operations.back()["seq"].get<std::uint64_t>();
            break;
        }
        page.operations.push_back(std::move(op));
    }
    return page;
}

}  // namespace inkan::audit
