#include "client-sdk/cli/request_body.hpp"

#include <stdexcept>

#include <openssl/crypto.h>

namespace inkan::cli {
namespace {

// The longest escape of one byte is \u00XX (RFC 8259 §7).
constexpr std::size_t kMaxEscapedBytesPerByte = 6;
// ,"name":"" around each secret member.
constexpr std::size_t kMemberOverhead = 6;

}  // namespace

RequestBody::RequestBody(const nlohmann::json& fields, std::initializer_list<SecretField> secrets)
{
    if (!fields.is_object()) throw std::logic_error("a request body is a JSON object");
    std::string publicPart = fields.dump();
    std::size_t capacity = publicPart.size();
    for (const SecretField& field : secrets) {
        capacity += kMemberOverhead + field.name.size() + kMaxEscapedBytesPerByte * field.value.size();
    }
    buffer_.reserve(capacity);

    // publicPart is "{...}": reopen it, append the secret members, close it again.
    bool hasMembers = !fields.empty();
    append(std::string_view(publicPart).substr(0, publicPart.size() - 1));
    for (const SecretField& field : secrets) {
        if (hasMembers) append(",");
        append("\"");
        append(field.name);
        append("\":\"");
        appendEscaped(field.value.view());
        append("\"");
        hasMembers = true;
    }
    append("}");
}

RequestBody::~RequestBody()
{
    if (!buffer_.empty()) OPENSSL_cleanse(buffer_.data(), buffer_.size());
}

void RequestBody::append(std::string_view text)
{
    // Growing past the reserved capacity would reallocate and leave the old
    // buffer unwiped: the capacity computed above makes this unreachable.
    if (buffer_.size() + text.size() > buffer_.capacity()) throw std::logic_error("request body capacity exceeded");
    buffer_.append(text);
}

void RequestBody::appendEscaped(std::string_view text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            const char escaped[2] = {'\\', c};
            append({escaped, 2});
        } else if (byte < 0x20) {  // control characters must be escaped (RFC 8259 §7)
            const char escaped[6] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0x0F]};
            append({escaped, 6});
        } else {
            append({&c, 1});
        }
    }
}

}  // namespace inkan::cli
