// inkan — a PIN, unblock code or key passphrase in memory.
//
// Move-only; the bytes are wiped (OPENSSL_cleanse) when the object dies or is
// moved from. Never printed: there is deliberately no operator<< and no
// implicit conversion to std::string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <openssl/crypto.h>

namespace inkan {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view value) { assign(value); }
    ~Secret() { wipe(); }

    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept { assign(other.view()); other.wipe(); }
    Secret& operator=(Secret&& other) noexcept
    {
        if (this != &other) { assign(other.view()); other.wipe(); }
        return *this;
    }

    std::string_view view() const noexcept { return {value_.data(), value_.size()}; }
    /// NUL-terminated, for C APIs that take a password (PKCS12_parse).
    const char* c_str() const noexcept { return value_.c_str(); }
    std::size_t size() const noexcept { return value_.size(); }
    bool empty() const noexcept { return value_.empty(); }

    void wipe() noexcept
    {
        if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
        value_.clear();
    }

private:
    void assign(std::string_view value)
    {
        wipe();
        // Reserve once so the buffer is never reallocated (a reallocation
        // would leave an unwiped copy behind).
        value_.reserve(value.size() < 64 ? 64 : value.size());
        value_.assign(value.data(), value.size());
    }

    std::string value_;
};

}  // namespace inkan
