#include "api/handlers_audit.hpp"

#include <charconv>

#include "api/json_mapping.hpp"
#include "daemon/error.hpp"
#include "daemon/service/rfc3339.hpp"

namespace inkan::api {

namespace {

constexpr std::size_t kMaxLimit = 1000;

std::uint64_t numberOf(std::string_view name, std::string_view value, std::uint64_t low, std::uint64_t high)
{
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size() || number < low || number > high) {
        throw Error(ErrorCode::BadRequest, "query parameter '" + std::string(name) + "' must be a number from " +
                                               std::to_string(low) + " to " + std::to_string(high));
    }
    return number;
}

std::chrono::sys_seconds timeOf(std::string_view name, std::string_view value)
{
    const auto parsed = service::parseRfc3339(value);
    if (!parsed) {
        throw Error(ErrorCode::BadRequest, "query parameter '" + std::string(name) +
                                               "' must be an RFC 3339 date-time with an offset, e.g. 2026-04-01T09:00:00+09:00");
    }
    return *parsed;
}

}  // namespace

audit::Query auditQueryOf(std::string_view target)
{
    audit::Query query;
    const std::size_t question = target.find('?');
    std::string_view rest = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        const std::size_t equals = pair.find('=');
        const std::string_view name = pair.substr(0, equals);
        const auto value = equals == std::string_view::npos ? std::optional<std::string>("") : decodePathSegment(pair.substr(equals + 1), true);
        if (!value) throw Error(ErrorCode::BadRequest, "query parameter '" + std::string(name) + "' is not correctly %-encoded");
        if (name == "since") query.since = timeOf(name, *value);
        else if (name == "until") query.until = timeOf(name, *value);
        else if (name == "card") query.card = *value;
        else if (name == "origin") query.origin = *value;
        else if (name == "after") query.after = numberOf(name, *value, 0, UINT64_MAX);
        else if (name == "limit") query.limit = numberOf(name, *value, 1, kMaxLimit);
        // Other parameters are ignored, as elsewhere.
    }
    return query;
}

void registerAuditRoutes(Router& router, const audit::Ledger& ledger)
{
    router.add("GET", "/v1/audit", [&ledger](const RequestContext& context, Respond respond) {
        if (context.caller.kind != Caller::Kind::LocalClient && context.caller.kind != Caller::Kind::OwnOrigin) {
            throw Error(ErrorCode::OperationForbidden,
                        "the usage ledger is read only by the local client (`inkan log`) and the logged-in console");
        }
        const audit::Page page = ledger.operations(auditQueryOf(context.request.target));
        Json operations = Json::array();
        for (const auto& operation : page.operations) operations.push_back(operation);
        Json body{{"operations", std::move(operations)}};
        body["next"] = page.next ? Json(*page.next) : Json(nullptr);
        respond(jsonResponse(body));
    });
}

}  // namespace inkan::api
