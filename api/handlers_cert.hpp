// inkan — the certificate checks of the API:
//   GET  /v1/cards/{cardId}/certificates/{certId}/validation[?at=RFC3339]
//   POST /v1/cards/{cardId}/selftest   {"pin"?}
// Input is validated before the card or the network is involved; the card is
// reached through the policy-checked card access (a validation reads, the
// self-test reads and, with a PIN, signs); the checks themselves run on the
// CertificateChecker's pool.
#pragma once

#include "daemon/audit/audited_access.hpp"
#include "api/json_certificates.hpp"
#include "api/router.hpp"
#include "daemon/security/card_access.hpp"
#include "daemon/service/certificate_checker.hpp"

namespace inkan::api {

/// What the certificate side of the API needs besides the card agent.
struct CertificateServices {
    /// Runs validations and self-tests; null: those two routes are not served.
    service::CertificateChecker* checker = nullptr;
    ExpiryPolicy expiry;
    /// Records self-tests in the 使用簿 (docs/audit.md); null: not recorded.
    audit::AuditedCardAccess* audited = nullptr;
};

/// Register the validation and self-test routes. `access` and the checker
/// must outlive the router and every operation started through it.
void registerCertificateRoutes(Router& router, security::CardAccess& access, const CertificateServices& services);

/// The `at` query parameter of a validation request, if any: RFC 3339 with an
/// offset, percent-encoding decoded, '+' taken literally. Throws
/// inkan::Error(BadRequest) when it is malformed or given twice.
std::optional<std::chrono::system_clock::time_point> validationTimeOf(const Request& request);

}  // namespace inkan::api
