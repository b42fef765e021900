// inkan — the local client's decisions recorded in the 使用簿 like a card's
// use (docs/audit.md): pairings approved, denied and revoked; file
// credentials imported and removed. The card operations themselves are
// recorded by daemon/audit/audited_access.*.
#pragma once

#include <string>
#include <utility>

#include "daemon/audit/audited_access.hpp"
#include "daemon/audit/ledger.hpp"
#include "daemon/error.hpp"

namespace inkan::api {

/// Runs `action` between the intent `entry` and its done, when there is a
/// ledger; `describe(result, value)` adds what only the outcome knows (e.g. the
/// credential an import made). The intent is durable before `action` runs:
/// AUDIT_UNAVAILABLE then, and nothing is done.
template <class Action, class Describe>
auto recorded(audit::Ledger* ledger, audit::Entry entry, Action action, Describe describe) -> decltype(action())
{
    if (!ledger) return action();
    entry.who.kind = audit::Who::Kind::Local;  // these are decided by the local client only
    entry.requestId = audit::newRequestId();
    const std::uint64_t intent = ledger->begin(entry);
    try {
        auto value = action();
        audit::Result result;
        describe(result, value);
        ledger->finish(intent, entry, result);
        return value;
    } catch (const Error& error) {
        if (error.code() == ErrorCode::AuditUnavailable) throw;
        audit::Result result;
        result.outcome = std::string(errorCodeName(error.code()));
        result.triesLeft = error.triesLeft;
        ledger->finish(intent, entry, result);
        throw;
    }
}

/// `recorded` for a decision about `target` (e.g. the origin of a pairing).
template <class Action>
auto recorded(audit::Ledger* ledger, std::string operation, std::string target, Action action) -> decltype(action())
{
    audit::Entry entry;
    entry.operation = std::move(operation);
    entry.target = std::move(target);
    return recorded(ledger, std::move(entry), std::move(action), [](audit::Result&, const auto&) {});
}

}  // namespace inkan::api
