// inkan — the only outbound network code of daemon/cert/: plain-HTTP GET and
// POST of OCSP requests and CRLs (RFC 6960 Appendix A, RFC 5280 §4.2.1.13),
// through OpenSSL's HTTP client. Blocking; call it from a worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace inkan::cert::http {

/// A transport failure (refused, timed out, HTTP error status, too large).
class FetchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FetchOptions {
    std::chrono::seconds timeout{10};
    std::size_t maxResponseBytes = 0;  // required
    std::string proxy;                 // "host:port" or "http://host:port"; empty: direct, environment ignored
};

/// True for the only URLs inkan fetches: "http://host[:port][/path]" with no
/// user info. OCSP and CRLs are signed objects, so TLS adds nothing but a
/// chicken-and-egg revocation problem (RFC 5280 §4.2.1.13 notes the same).
bool isFetchableUrl(const std::string& url);

/// GET `url`; the body. Throws FetchError. No redirects are followed: a
/// request goes only to the URL given (one the certificate or the configuration named).
std::vector<std::uint8_t> get(const std::string& url, const FetchOptions& options);

/// POST `body` with `contentType`; the body of the answer, which must carry
/// `expectedContentType`. Throws FetchError.
std::vector<std::uint8_t> post(const std::string& url, std::span<const std::uint8_t> body,
                               const std::string& contentType, const std::string& expectedContentType,
                               const FetchOptions& options);

}  // namespace inkan::cert::http
