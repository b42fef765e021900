// `inkan log`: the 使用簿 (docs/audit.md) — every use of the card, from
// GET /v1/audit, as a table, as JSON or as a CSV file Excel opens as is; and
// `inkan log verify`, which walks the ledger's hash chain on disk (no inkand
// needed) and names the first record that does not fit.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/text_table.hpp"
#include "daemon/audit/chain.hpp"

namespace inkan::cli {

namespace {

// Excel recognises UTF-8 only with a byte order mark, and RFC 4180 lines end in CRLF.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kPageLimit = "1000";
constexpr std::size_t kShortDigest = 16;  // hex digits of a digest shown in the table
constexpr std::string_view kDateOnlySuffix = "T00:00:00+09:00";  // a bare date is a day in Japan
constexpr std::size_t kDateOnlyLength = 10;                        // YYYY-MM-DD

struct LogOptions {
    std::string since;
    std::string until;
    std::string origin;
    bool csv = false;
};

struct OperationName {
    std::string_view id;
    std::string_view label;
};
constexpr OperationName kOperationNames[] = {
    {"sign", "署名"},
    {"pin.verify", "PIN照合"},
    {"pin.change", "PIN変更"},
    {"pin.unblock", "PINロック解除"},
    {"selftest", "自己診断"},
    {"pairing.approve", "連携承認"},
    {"pairing.deny", "連携拒否"},
    {"pairing.revoke", "連携取消"},
    {"credential.import", "証明書取込"},
    {"credential.remove", "証明書削除"},
};

std::string operationLabel(const std::string& id)
{
    for (const auto& name : kOperationNames) {
        if (name.id == id) return std::string(name.label);
    }
    return id;
}

std::string resultLabel(const nlohmann::json& op)
{
    const std::string result = textOf(op, "result");
    if (result == "ok") return "成功";
    if (result == "interrupted") return "中断";
    if (result == "pending") return "処理中";
    return result;
}

std::string whoLabel(const nlohmann::json& op)
{
    const nlohmann::json& who = objectOf(op, "who");
    const std::string kind = textOf(who, "kind");
    if (kind == "local") {
        std::string label = "ローカル";
        if (!textOf(who, "osUser").empty()) label += " " + textOf(who, "osUser");
        if (!textOf(who, "program").empty()) label += " (" + textOf(who, "program") + ")";
        return label;
    }
    if (kind == "console") return "コンソール";
    return textOf(who, "origin");
}

std::string cardLabel(const nlohmann::json& op)
{
    const nlohmann::json& credential = objectOf(op, "credential");
    const std::string label = textOf(credential, "label");
    return label.empty() ? textOf(credential, "cardId") : label;
}

/// What the operation concerned: the digest signed, or the origin of a pairing.
std::string targetLabel(const nlohmann::json& op, bool full)
{
    const nlohmann::json& digest = objectOf(op, "digest");
    if (!digest.empty()) {
        std::string value = textOf(digest, "value");
        if (!full && value.size() > kShortDigest) value = value.substr(0, kShortDigest) + "…";
        return textOf(digest, "algorithm") + ":" + value;
    }
    return textOf(op, "target");
}

/// "2026-04-01T09:00:00.123+09:00" -> "2026-04-01 09:00:00".
std::string localTime(const nlohmann::json& op)
{
    std::string time = textOf(op, "timeJst");
    if (time.size() >= 19) time = time.substr(0, 10) + " " + time.substr(11, 8);
    return time;
}

std::string triesLabel(const nlohmann::json& op)
{
    const auto tries = numberOf(op, "triesLeft");
    return tries ? std::to_string(*tries) : std::string();
}

/// One CSV field (RFC 4180): always quoted, quotes doubled. A text that
/// Excel would run as a formula gets a leading apostrophe.
std::string csvField(std::string value)
{
    if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@')) value.insert(0, "'");
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

void printCsvRow(std::ostream& out, const std::vector<std::string>& fields)
{
    for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << csvField(fields[i]);
    out << kCrlf;
}

std::string queryValue(const std::string& time)
{
    return time.size() == kDateOnlyLength ? time + std::string(kDateOnlySuffix) : time;
}

/// Every operation matching the options, all pages.
nlohmann::json fetchAll(Session& session, const LogOptions& options)
{
    std::string filter;
    auto add = [&filter](std::string_view name, const std::string& value) {
        if (!value.empty()) filter += "&" + std::string(name) + "=" + pathSegment(value);
    };
    add("since", queryValue(options.since));
    add("until", queryValue(options.until));
    add("card", session.options().card);
    add("origin", options.origin);

    nlohmann::json all = nlohmann::json::array();
    std::string after = "0";
    for (;;) {
        const ApiResponse response =
            session.api().get("/audit?limit=" + std::string(kPageLimit) + "&after=" + after + filter);
        for (const auto& op : arrayOf(response.json, "operations")) all.push_back(op);
        const auto next = numberOf(response.json, "next");
        if (!next) break;
        after = std::to_string(*next);
    }
    return all;
}

ExitCode printLog(Session& session, const LogOptions& options)
{
    const nlohmann::json operations = fetchAll(session, options);
    if (session.json()) {
        session.out() << nlohmann::json{{"operations", operations}}.dump(2) << '\n';
        return ExitCode::Ok;
    }
    if (options.csv) {
        std::ostream& out = session.out();
        out << kUtf8Bom;
        printCsvRow(out, {"記録番号", "日時", "利用者/サイト", "カード", "カードID", "証明書シリアル", "商号", "会社法人等番号", "操作", "対象",
                          "結果", "残り回数", "リクエストID"});
        for (const auto& op : operations) {
            const nlohmann::json& credential = objectOf(op, "credential");
            const auto seq = numberOf(op, "seq");
            printCsvRow(out, {seq ? std::to_string(*seq) : "", localTime(op), whoLabel(op), cardLabel(op), textOf(credential, "cardId"),
                              textOf(credential, "certificateSerial"), textOf(credential, "corporateName"),
                              textOf(credential, "corporateNumber"), operationLabel(textOf(op, "operation")), targetLabel(op, true),
                              resultLabel(op), triesLabel(op), textOf(op, "requestId")});
        }
        out.flush();
        return ExitCode::Ok;
    }
    if (operations.empty()) {
        session.out() << "No use of a card recorded" << (options.since.empty() && options.until.empty() ? "" : " in that period") << ".\n";
        return ExitCode::Ok;
    }
    TextTable table({"日時", "利用者/サイト", "カード", "商号", "操作", "対象", "結果"});
    for (const auto& op : operations) {
        std::string result = resultLabel(op);
        if (const std::string tries = triesLabel(op); !tries.empty()) result += " (残り" + tries + "回)";
        table.addRow({localTime(op), whoLabel(op), cardLabel(op), textOf(objectOf(op, "credential"), "corporateName"),
                      operationLabel(textOf(op, "operation")), targetLabel(op, false), result});
    }
    table.print(session.out());
    return ExitCode::Ok;
}

ExitCode verifyLog(Session& session, const std::string& dirOption)
{
    const std::filesystem::path dir = dirOption.empty() ? StateDir::resolve(session.options().stateDir).path() / "audit"
                                                        : std::filesystem::path(dirOption);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw Failure(ExitCode::LocalIo, "there is no usage ledger in " + dir.string(),
                      "inkand keeps it in <state dir>/audit, or where its config's audit.dir says: pass that with --dir");
    }
    audit::VerifyResult result;
    try {
        result = audit::verifyChain(dir);
    } catch (const std::exception& e) {
        throw Failure(ExitCode::LocalIo, std::string("cannot read the usage ledger: ") + e.what());
    }
    if (session.json()) {
        nlohmann::json json{{"ok", result.ok}, {"records", result.records}, {"firstSeq", result.firstSeq}, {"dir", dir.string()}};
        if (result.ok) json["lastHash"] = result.lastHash;
        else {
            json["file"] = result.file.string();
            json["line"] = result.line;
            json["expectedSeq"] = result.expectedSeq;
            if (result.seq) json["seq"] = *result.seq;
            json["reason"] = result.reason;
        }
        session.out() << json.dump(2) << '\n';
    } else if (result.ok) {
        session.out() << "The usage ledger in " << dir.string() << " verifies: " << result.records << " records";
        if (result.records > 0) {
            session.out() << " (" << result.firstSeq << " to " << result.firstSeq + result.records - 1 << "), last hash " << result.lastHash;
        }
        session.out() << ".\n";
        if (result.firstSeq > 1) session.out() << "Records before " << result.firstSeq << " were removed by rotation (keepSegments).\n";
    } else {
        std::cerr << "inkan: the usage ledger does not verify: record " << result.expectedSeq << " (" << result.file.filename().string()
                  << " line " << result.line << (result.seq && *result.seq != result.expectedSeq ? ", which holds record " + std::to_string(*result.seq) : std::string())
                  << "): " << result.reason << "\n";
        std::cerr << "  " << result.records << " records before it verify.\n";
    }
    return result.ok ? ExitCode::Ok : ExitCode::CheckFailed;
}

}  // namespace

void addLogCommands(Commands& commands)
{
    auto options = std::make_shared<LogOptions>();
    auto dir = std::make_shared<std::string>();
    auto verify = std::make_shared<CLI::App*>(nullptr);
    // `log verify` is decided here: CLI11 runs the parent's callback after its subcommand's.
    CLI::App& log = commands.add(commands.root(), "log", "Show the usage ledger (使用簿): every use of a card, who, when, what",
                                 [options, dir, verify](Session& session) {
                                     return (*verify)->parsed() ? verifyLog(session, *dir) : printLog(session, *options);
                                 });
    log.add_option("--since", options->since, "Operations from this time on (RFC 3339, or YYYY-MM-DD in JST)");
    log.add_option("--until", options->until, "Operations before this time (RFC 3339, or YYYY-MM-DD in JST)");
    log.add_option("--origin", options->origin, "Only this site's operations (\"local\": the local client's)");
    log.add_flag("--csv", options->csv, "Print CSV for Excel: UTF-8 with BOM, Japanese headers, CRLF");
    log.require_subcommand(0, 1);

    *verify = log.add_subcommand("verify", "Walk the ledger's hash chain on disk and name the first record that does not fit");
    (*verify)->add_option("--dir", *dir, "The audit directory (default: <state dir>/audit)");
}

}  // namespace inkan::cli
