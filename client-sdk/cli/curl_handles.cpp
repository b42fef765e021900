#include "client-sdk/cli/curl_handles.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

#include <openssl/crypto.h>

namespace inkan::cli {

CurlGlobal::CurlGlobal()
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("libcurl initialisation failed");
}

CurlGlobal::~CurlGlobal()
{
    curl_global_cleanup();
}

CurlHeaders::~CurlHeaders()
{
    for (curl_slist* item = list_; item != nullptr; item = item->next) {
        if (item->data != nullptr) OPENSSL_cleanse(item->data, std::strlen(item->data));
    }
    curl_slist_free_all(list_);
}

void CurlHeaders::append(const std::string& header)
{
    curl_slist* extended = curl_slist_append(list_, header.c_str());
    if (extended == nullptr) throw std::bad_alloc();
    list_ = extended;
}

}  // namespace inkan::cli
