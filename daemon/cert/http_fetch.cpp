// inkan — plain-HTTP fetches for revocation data (see http_fetch.hpp).
#include "daemon/cert/http_fetch.hpp"

#include <algorithm>

#include <openssl/err.h>
#include <openssl/http.h>

#include "daemon/cert/openssl_ptr.hpp"

namespace inkan::cert::http {
namespace {

constexpr std::string_view kHttpScheme = "http://";

struct ParsedUrl {
    std::string host;
    std::string port;
    std::string path;  // with the query, if any
};

/// Parsed pieces of a URL, freed however parsing ends.
struct UrlParts {
    char* user = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    char* path = nullptr;
    char* query = nullptr;
    char* fragment = nullptr;
    ~UrlParts() {
        for (char* p : {user, host, port, path, query, fragment}) OPENSSL_free(p);
    }
};

std::optional<ParsedUrl> parse(const std::string& url) {
    // Compare the scheme ourselves: OSSL_HTTP_parse_url also accepts https and
    // scheme-less forms, and inkan fetches only what is plainly http.
    if (url.size() <= kHttpScheme.size() || url.compare(0, kHttpScheme.size(), kHttpScheme) != 0) {
        return std::nullopt;
    }
    if (std::any_of(url.begin(), url.end(), [](char c) { return c <= 0x20 || c >= 0x7F; })) {
        return std::nullopt;
    }
    UrlParts parts;
    int ssl = 0;
    int portNumber = 0;
    if (OSSL_HTTP_parse_url(url.c_str(), &ssl, &parts.user, &parts.host, &parts.port, &portNumber, &parts.path,
                            &parts.query, &parts.fragment) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    if (ssl != 0 || (parts.user != nullptr && *parts.user != '\0') || parts.host == nullptr ||
        *parts.host == '\0') {
        return std::nullopt;
    }
    ParsedUrl out{parts.host, parts.port != nullptr ? parts.port : "80", parts.path != nullptr ? parts.path : "/"};
    if (parts.query != nullptr && *parts.query != '\0') {
        out.path += '?';
        out.path += parts.query;
    }
    return out;
}

std::string lastOpenSslError(const char* what) {
    const unsigned long code = ERR_peek_last_error();
    std::string message = what;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        message += ": ";
        message += buf;
    }
    ERR_clear_error();
    return message;
}

std::vector<std::uint8_t> transfer(const std::string& url, BIO* request, const char* contentType,
                                   const char* expectedContentType, const FetchOptions& options) {
    const auto parsed = parse(url);
    if (!parsed) {
        throw FetchError("not a plain http:// URL: " + url);
    }
    const int timeout = static_cast<int>(std::max<std::chrono::seconds::rep>(options.timeout.count(), 1));
    ERR_clear_error();
    // proxy "" (not NULL) disables OpenSSL's use of the http_proxy environment:
    // the daemon's environment must not redirect where revocation data comes from.
    ossl::BioPtr response(OSSL_HTTP_transfer(
        nullptr, parsed->host.c_str(), parsed->port.c_str(), parsed->path.c_str(), /*use_ssl=*/0,
        options.proxy.c_str(), /*no_proxy=*/nullptr, /*bio=*/nullptr, /*rbio=*/nullptr,
        /*bio_update_fn=*/nullptr, /*arg=*/nullptr, /*buf_size=*/0, /*headers=*/nullptr, contentType, request,
        expectedContentType, /*expect_asn1=*/1, options.maxResponseBytes, timeout, /*keep_alive=*/0));
    if (!response) {
        throw FetchError(lastOpenSslError(("request to " + url + " failed").c_str()));
    }
    std::vector<std::uint8_t> body;
    char* data = nullptr;
    const long len = BIO_get_mem_data(response.get(), &data);
    if (len > 0) {
        body.assign(data, data + len);
    }
    if (body.size() > options.maxResponseBytes) {
        throw FetchError("response from " + url + " is too large");
    }
    return body;
}

}  // namespace

bool isFetchableUrl(const std::string& url) { return parse(url).has_value(); }

std::vector<std::uint8_t> get(const std::string& url, const FetchOptions& options) {
    return transfer(url, nullptr, nullptr, nullptr, options);
}

std::vector<std::uint8_t> post(const std::string& url, std::span<const std::uint8_t> body,
                               const std::string& contentType, const std::string& expectedContentType,
                               const FetchOptions& options) {
    ossl::BioPtr request(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
    if (!request) {
        throw FetchError("out of memory");
    }
    return transfer(url, request.get(), contentType.c_str(), expectedContentType.c_str(), options);
}

}  // namespace inkan::cert::http
