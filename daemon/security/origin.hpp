// inkan — web origins: how they are written down, and which ones may ever be
// trusted with the card (docs/security.md "Origins").
//
// inkand compares origins as exact strings, in the form a browser puts in the
// Origin header (RFC 6454 §6.2, the HTML "ASCII serialization of an origin"):
// lower-case scheme and host, no default port, no path, no trailing slash.
// Everything a user writes into the config or on the command line is brought
// into that form once, here; look-alikes (another case, a trailing dot, an
// explicit default port, "null", user info, a path) never equal an allowed origin
// afterwards, because the gate never normalizes what a request sends.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace inkan::security {

/// Text that is not one concrete web origin; the message says why, for the user.
class OriginSyntaxError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// "HTTPS://Portal.Example.jp:443/" -> "https://portal.example.jp".
/// Accepts scheme http or https, an ASCII host name (international names in
/// their xn-- form), an IPv4 address or a bracketed IPv6 address, and an
/// optional port; a single trailing slash is dropped. Refuses "*", "null",
/// paths, queries, fragments and user info. Throws OriginSyntaxError.
std::string normalizeOrigin(std::string_view text);

/// True when `origin` is exactly what a browser would send for some page:
/// normalizeOrigin(origin) == origin. The gate asks this of Origin headers
/// before it lets an unknown origin ask for pairing.
bool isSerializedOrigin(std::string_view origin) noexcept;

/// Whether a serialized origin may be allowlisted or paired at all: any
/// https:// origin, and — only when `allowInsecureLocalhost` (a development
/// setting) — http://localhost[:PORT] and http://127.0.0.1[:PORT]. Plain
/// http elsewhere could be forged by anyone on the network path.
bool isTrustworthyOrigin(std::string_view origin, bool allowInsecureLocalhost) noexcept;

/// The user-facing reason isTrustworthyOrigin() said no.
std::string untrustworthyOriginReason(std::string_view origin);

}  // namespace inkan::security
