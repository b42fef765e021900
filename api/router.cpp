#include "api/router.hpp"

#include <optional>

#include <boost/url/pct_string_view.hpp>

namespace inkan::api {

namespace {

// Ids in this API are short; longer segments are refused outright.
constexpr std::size_t kMaxSegmentLength = 256;

bool isParameter(std::string_view segment)
{
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// "/a/b" -> {"a","b"}, "/" -> {}; nullopt unless the path is absolute with non-empty segments.
std::optional<std::vector<std::string_view>> splitPath(std::string_view path)
{
    if (path.empty() || path.front() != '/') return std::nullopt;
    std::vector<std::string_view> segments;
    if (path.size() == 1) return segments;  // the root, "/"
    path.remove_prefix(1);
    while (true) {
        const std::size_t slash = path.find('/');
        const std::string_view segment = path.substr(0, slash);
        if (segment.empty()) return std::nullopt;
        segments.push_back(segment);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

}  // namespace

std::optional<std::string> decodePathSegment(std::string_view segment, bool allowSlash)
{
    if (segment.size() > kMaxSegmentLength) return std::nullopt;
    // Boost.URL checks the %XX escapes (RFC 3986 §2.1) and decodes them; '+' stays '+'.
    const auto escaped = boost::urls::make_pct_string_view(boost::urls::string_view(segment.data(), segment.size()));
    if (!escaped) return std::nullopt;
    std::string decoded = escaped->decode();
    for (const char c : decoded) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F || (c == '/' && !allowSlash)) return std::nullopt;
    }
    return decoded;
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler, Slashes slashes)
{
    Route route;
    route.method = std::string(method);
    route.handler = std::move(handler);
    route.slashes = slashes;
    const auto segments = splitPath(pattern);
    if (segments) {
        for (auto segment : *segments) route.segments.emplace_back(segment);
    }
    routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const
{
    Match result;
    const auto segments = splitPath(path);
    if (!segments) return result;

    for (const Route& route : routes_) {
        if (route.segments.size() != segments->size()) continue;
        PathParams params;
        bool matches = true;
        for (std::size_t i = 0; i < segments->size() && matches; ++i) {
            const std::string& expected = route.segments[i];
            if (isParameter(expected)) {
                auto decoded = decodePathSegment((*segments)[i], route.slashes == Slashes::Allowed);
                if (!decoded || decoded->empty()) matches = false;
                else params.push_back(std::move(*decoded));
            } else {
                matches = expected == (*segments)[i];
            }
        }
        if (!matches) continue;
        if (route.method == method) {
            result.kind = Match::Kind::Found;
            result.handler = &route.handler;
            result.params = std::move(params);
            return result;
        }
        result.kind = Match::Kind::MethodNotAllowed;
        if (result.allow.find(route.method) == std::string::npos) {
            if (!result.allow.empty()) result.allow += ", ";
            result.allow += route.method;
        }
    }
    return result;
}

}  // namespace inkan::api
