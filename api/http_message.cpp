#include "api/http_message.hpp"

#include <algorithm>

#include <openssl/crypto.h>

namespace inkan::api {

namespace {
char lowerAscii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lowerAscii(x) == lowerAscii(y); });
}

void Headers::add(std::string_view name, std::string_view value)
{
    fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::set(std::string_view name, std::string_view value)
{
    std::erase_if(fields_, [&](const Field& f) { return equalsIgnoreCase(f.first, name); });
    add(name, value);
}

std::optional<std::string_view> Headers::get(std::string_view name) const
{
    for (const auto& [fieldName, value] : fields_) {
        if (equalsIgnoreCase(fieldName, name)) return std::string_view(value);
    }
    return std::nullopt;
}

std::size_t Headers::count(std::string_view name) const
{
    return static_cast<std::size_t>(
        std::count_if(fields_.begin(), fields_.end(), [&](const Field& f) { return equalsIgnoreCase(f.first, name); }));
}

std::string_view Request::path() const noexcept
{
    std::string_view view(target);
    return view.substr(0, view.find('?'));
}

Request::Request(Request&& other) noexcept { *this = std::move(other); }

Request& Request::operator=(Request&& other) noexcept
{
    if (this != &other) {
        method = std::move(other.method);
        target = std::move(other.target);
        headers = std::move(other.headers);
        peerUser = other.peerUser;
        wipeBody();
        body.assign(other.body);  // out of memory here ends the process (noexcept)
        other.wipeBody();
    }
    return *this;
}

void Request::wipeBody() noexcept { wipe(body); }

void wipe(std::string& text) noexcept
{
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
    text.clear();
}

}  // namespace inkan::api
