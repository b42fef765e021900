#include "daemon/security/assuan.hpp"

#include <array>
#include <charconv>

#include <openssl/crypto.h>

#include "daemon/hex.hpp"

namespace inkan::security::assuan {

namespace {

constexpr char kEscape = '%';
constexpr char kHexDigits[] = "0123456789ABCDEF";

// Response keywords (Assuan manual, "Server responses").
constexpr std::string_view kOk = "OK";
constexpr std::string_view kErr = "ERR";
constexpr std::string_view kData = "D";
constexpr std::string_view kStatus = "S";
constexpr std::string_view kComment = "#";
constexpr std::string_view kInquire = "INQUIRE";

bool needsEscape(unsigned char c) { return c < 0x20 || c == 0x7F || c == static_cast<unsigned char>(kEscape); }

/// Whether `line` is `keyword` alone or followed by a space.
bool startsWithKeyword(std::string_view line, std::string_view keyword, std::string_view& rest)
{
    if (line.substr(0, keyword.size()) != keyword) return false;
    if (line.size() == keyword.size()) {
        rest = {};
        return true;
    }
    if (line[keyword.size()] != ' ') return false;
    rest = line.substr(keyword.size() + 1);
    return true;
}

/// Where to cut UTF-8 `text` so at most `limit` bytes remain, on a character boundary.
std::size_t utf8Cut(std::string_view text, std::size_t limit)
{
    if (text.size() <= limit) return text.size();
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
    return cut;
}

}  // namespace

std::string escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (needsEscape(byte)) {
            out += kEscape;
            out += kHexDigits[byte >> 4];
            out += kHexDigits[byte & 0x0F];
        } else {
            out += c;
        }
    }
    return out;
}

std::string command(std::string_view verb, std::string_view argument)
{
    std::string line(verb);
    if (argument.empty()) return line;
    line += ' ';
    // Leave room for the LF; shorten the text (not the escapes) until it fits.
    const std::size_t budget = kMaxLineLength - 1 - line.size();
    std::string escaped = escape(argument);
    std::size_t keep = argument.size();
    while (escaped.size() > budget && keep > 0) {
        keep = utf8Cut(argument, keep - 1);
        escaped = escape(argument.substr(0, keep));
    }
    return line + escaped;
}

Response parseResponse(std::string_view line)
{
    Response response;
    std::string_view rest;
    if (startsWithKeyword(line, kOk, rest)) {
        response.kind = Response::Kind::Ok;
    } else if (startsWithKeyword(line, kErr, rest)) {
        const std::size_t space = rest.find(' ');
        const std::string_view number = rest.substr(0, space);
        std::uint32_t code = 0;
        const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), code);
        if (number.empty() || error != std::errc() || end != number.data() + number.size()) return response;
        response.kind = Response::Kind::Error;
        response.errorCode = code;
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    } else if (startsWithKeyword(line, kData, rest)) {
        response.kind = Response::Kind::Data;
    } else if (startsWithKeyword(line, kStatus, rest)) {
        response.kind = Response::Kind::Status;
    } else if (line.substr(0, kComment.size()) == kComment) {
        response.kind = Response::Kind::Comment;
        rest = line.substr(kComment.size());
    } else if (startsWithKeyword(line, kInquire, rest)) {
        response.kind = Response::Kind::Inquire;
    } else {
        return response;
    }
    response.rest = rest;
    return response;
}

std::optional<Secret> decodeData(std::string_view escaped)
{
    if (escaped.size() > kMaxLineLength) return std::nullopt;
    std::array<char, kMaxLineLength> buffer{};
    std::size_t length = 0;
    bool ok = true;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        char c = escaped[i];
        if (c == kEscape) {
            const bool complete = i + 2 < escaped.size();
            const int high = complete ? hexDigitValue(escaped[i + 1]) : -1;
            const int low = complete ? hexDigitValue(escaped[i + 2]) : -1;
            if (high < 0 || low < 0) {
                ok = false;
                break;
            }
            c = static_cast<char>(high * 16 + low);
            i += 2;
        }
        buffer[length++] = c;
    }
    std::optional<Secret> result;
    if (ok) result.emplace(std::string_view(buffer.data(), length));
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return result;
}

}  // namespace inkan::security::assuan
