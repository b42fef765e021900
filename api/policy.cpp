#include "api/policy.hpp"

namespace inkan::api {

namespace {

constexpr std::string_view kAcknowledgeLowTriesField = "acknowledgeLowTries";
constexpr std::string_view kPinpadField = "pinpad";

}  // namespace

security::Principal principalOf(const Caller& caller)
{
    switch (caller.kind) {
    case Caller::Kind::LocalClient: return security::Principal::localClient();
    case Caller::Kind::OwnOrigin: return security::Principal::console(caller.origin, caller.session);
    case Caller::Kind::BrowserOrigin:
    case Caller::Kind::PairingCandidate:
    case Caller::Kind::ConsoleLogin:
    case Caller::Kind::Public: return security::Principal::webOrigin(caller.origin);
    }
    return security::Principal::webOrigin(caller.origin);
}

security::PinRequestOptions pinOptionsOf(const JsonBody& body, std::optional<std::string> pinId)
{
    security::PinRequestOptions options;
    options.pinId = std::move(pinId);
    options.acknowledgeLowTries = body.optionalBool(kAcknowledgeLowTriesField).value_or(false);
    options.pinpad = body.optionalBool(kPinpadField).value_or(false);
    return options;
}

}  // namespace inkan::api
