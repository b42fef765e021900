// inkan CLI — RAII for the libcurl easy interface.
#pragma once

#include <memory>
#include <string>

#include <curl/curl.h>

namespace inkan::cli {

/// curl_global_init / curl_global_cleanup for the life of main().
class CurlGlobal {
public:
    CurlGlobal();
    ~CurlGlobal();
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

struct CurlEasyDeleter {
    void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

/// A curl_slist of request headers. One of them carries the API token, so
/// every header is wiped before the list is freed.
class CurlHeaders {
public:
    CurlHeaders() = default;
    ~CurlHeaders();
    CurlHeaders(const CurlHeaders&) = delete;
    CurlHeaders& operator=(const CurlHeaders&) = delete;

    void append(const std::string& header);
    curl_slist* get() const noexcept { return list_; }

private:
    curl_slist* list_ = nullptr;
};

}  // namespace inkan::cli
