#include "daemon/security/origin.hpp"

#include <algorithm>
#include <charconv>

namespace inkan::security {

namespace {

constexpr std::string_view kHttps = "https";
constexpr std::string_view kHttp = "http";
constexpr std::string_view kSchemeSeparator = "://";

// RFC 6454 §4 step 7: a browser leaves the scheme's default port out.
constexpr int kHttpsDefaultPort = 443;
constexpr int kHttpDefaultPort = 80;
constexpr int kMinPort = 1;
constexpr int kMaxPort = 65535;
constexpr std::size_t kMaxPortDigits = 5;

// The development origins --allow-insecure-localhost-origins admits over plain http.
constexpr std::string_view kInsecureLocalhostNames[] = {"localhost", "127.0.0.1"};

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool isHostChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

OriginSyntaxError invalid(std::string_view why) { return OriginSyntaxError(std::string(why)); }

struct Parts {
    std::string scheme;
    std::string host;  // IPv6 with its brackets
    std::string port;  // empty when absent or the default
};

Parts parse(std::string_view origin)
{
    if (origin == "*" || origin == "null") throw invalid("only concrete origins can be allowed");

    const std::size_t separator = origin.find(kSchemeSeparator);
    if (separator == std::string_view::npos) throw invalid("expected scheme://host[:port]");
    Parts parts;
    parts.scheme = lower(origin.substr(0, separator));
    if (parts.scheme != kHttps && parts.scheme != kHttp) throw invalid("the scheme must be https or http");

    std::string_view rest = origin.substr(separator + kSchemeSeparator.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // a pasted "https://portal.example/"
    if (rest.find_first_of("/?#@\\ \t") != std::string_view::npos) {
        throw invalid("an origin has no path, query, fragment, user or spaces");
    }

    std::string_view portText;
    bool portGiven = false;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) throw invalid("unterminated IPv6 address");
        parts.host = lower(rest.substr(0, close + 1));
        const std::string_view inner = std::string_view(parts.host).substr(1, parts.host.size() - 2);
        if (inner.empty() || inner.find_first_not_of("0123456789abcdef:.") != std::string_view::npos) {
            throw invalid("malformed IPv6 address");
        }
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw invalid("unexpected text after the IPv6 address");
            portText = rest.substr(1);
            portGiven = true;
        }
    } else {
        const std::size_t colon = rest.find(':');
        parts.host = lower(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            portText = rest.substr(colon + 1);
            portGiven = true;
        }
        if (parts.host.empty()) throw invalid("the host is missing");
        if (!std::all_of(parts.host.begin(), parts.host.end(), isHostChar)) {
            throw invalid("the host must be ASCII (write international names in their xn-- form)");
        }
        // "portal.example." names the same site as "portal.example" to DNS, but
        // a browser serializes them differently: allowing one must not allow the other.
        if (parts.host.front() == '.' || parts.host.back() == '.' || parts.host.find("..") != std::string::npos) {
            throw invalid("the host must not start or end with a dot");
        }
    }

    if (portGiven) {
        int port = 0;
        const auto* end = portText.data() + portText.size();
        const auto [next, error] = std::from_chars(portText.data(), end, port);
        if (portText.empty() || portText.size() > kMaxPortDigits || error != std::errc() || next != end ||
            port < kMinPort || port > kMaxPort) {
            throw invalid("the port must be a number from 1 to 65535");
        }
        const int defaultPort = parts.scheme == kHttps ? kHttpsDefaultPort : kHttpDefaultPort;
        if (port != defaultPort) parts.port = std::to_string(port);
    }
    return parts;
}

std::string serialize(const Parts& parts)
{
    std::string serialized = parts.scheme + std::string(kSchemeSeparator) + parts.host;
    if (!parts.port.empty()) serialized += ":" + parts.port;
    return serialized;
}

}  // namespace

std::string normalizeOrigin(std::string_view text)
{
    return serialize(parse(text));
}

bool isSerializedOrigin(std::string_view origin) noexcept
{
    try {
        return normalizeOrigin(origin) == origin;
    } catch (...) {
        return false;
    }
}

bool isTrustworthyOrigin(std::string_view origin, bool allowInsecureLocalhost) noexcept
{
    try {
        const Parts parts = parse(origin);
        if (serialize(parts) != origin) return false;
        if (parts.scheme == kHttps) return true;
        if (!allowInsecureLocalhost) return false;
        return std::find(std::begin(kInsecureLocalhostNames), std::end(kInsecureLocalhostNames), parts.host) !=
               std::end(kInsecureLocalhostNames);
    } catch (...) {
        return false;
    }
}

std::string untrustworthyOriginReason(std::string_view origin)
{
    try {
        const Parts parts = parse(origin);
        if (parts.scheme == kHttps) return "not in the serialized form a browser sends";
        return "only https:// origins can be allowed; http://localhost:PORT and http://127.0.0.1:PORT "
               "only with --allow-insecure-localhost-origins (development)";
    } catch (const OriginSyntaxError& e) {
        return e.what();
    }
}

}  // namespace inkan::security
