// inkan — the one translation of what the gate established about a request
// (api::Caller) into whom the security layer decides for
// (security::Principal), and of a request body's security fields.
#pragma once

#include "api/gate.hpp"
#include "api/json_mapping.hpp"
#include "daemon/security/card_access.hpp"
#include "daemon/security/policy.hpp"

namespace inkan::api {

/// LocalClient -> the local client; OwnOrigin -> the console; every other
/// kind -> a web origin (which the policy grants only what its grant says:
/// nothing, for a pairing candidate or a credential-less request).
security::Principal principalOf(const Caller& caller);

/// "acknowledgeLowTries" and "pinpad" of a PIN-spending request body (absent:
/// false), for PIN `pinId` (none: the card's default PIN).
security::PinRequestOptions pinOptionsOf(const JsonBody& body, std::optional<std::string> pinId = std::nullopt);

}  // namespace inkan::api
