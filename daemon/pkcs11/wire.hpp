// inkan — the pipe protocol between inkand and inkan-p11-helper (one helper
// process per PKCS#11 module, docs/credentials.md "PKCS#11 tokens").
//
// Every message is a frame: a 4-byte big-endian length, then that many bytes.
// inkand sends a request (an Op byte and its fields), the helper answers with
// one frame (the PKCS#11 return value CK_RV as u64, then the op's fields);
// right after start the helper sends a greeting answer (Op::Hello). Fields are
// u8, u64 (big-endian) and byte strings (u32 length + bytes). Header-only and
// free of inkand's other code: the helper includes it alone.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::pkcs11::wire {

/// A frame larger than this is a broken peer (certificates are a few KiB).
inline constexpr std::uint32_t kMaxFrame = 4U * 1024U * 1024U;
inline constexpr std::size_t kLengthBytes = 4;
// A request is an op, a slot, two PINs, a key id and a padded RSA block at most.
inline constexpr std::size_t kRequestCapacity = 8192;

enum class Op : std::uint8_t {
    Hello = 0,    // (answer only) rv, library description
    Slots = 1,    // -> rv, n x {slot u64, slot description, label, manufacturer, model, serial, flags, min/max PIN length u64}
    Objects = 2,  // slot -> rv, mechanisms n x u64, certificates n x {CKA_ID, label, DER}, keys n x {CKA_ID, key type u64}
    Login = 3,    // slot, pin -> rv, token flags (C_Login as user, then C_Logout)
    Sign = 4,     // slot, pin, key CKA_ID, mechanism u64, data -> rv, token flags, signature
    SetPin = 5,   // slot, old pin, new pin -> rv, token flags
};

/// Malformed message (a short field, an unknown op).
class WireError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Writer {
public:
    /// Room for any request at once: a buffer that grows leaves its old copy
    /// (with a PIN in it) behind unwiped.
    Writer() { bytes_.reserve(kRequestCapacity); }

    Writer& u8(std::uint8_t value)
    {
        bytes_.push_back(value);
        return *this;
    }
    Writer& u64(std::uint64_t value)
    {
        for (int shift = 56; shift >= 0; shift -= 8) bytes_.push_back(static_cast<std::uint8_t>(value >> shift));
        return *this;
    }
    Writer& bytes(const void* data, std::size_t size)
    {
        const auto length = static_cast<std::uint32_t>(size);
        for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<std::uint8_t>(length >> shift));
        const auto* begin = static_cast<const std::uint8_t*>(data);
        bytes_.insert(bytes_.end(), begin, begin + size);
        return *this;
    }
    Writer& text(std::string_view value) { return bytes(value.data(), value.size()); }
    Writer& bytes(const std::vector<std::uint8_t>& value) { return bytes(value.data(), value.size()); }

    /// The frame: length prefix and payload. The caller wipes it when it holds a PIN.
    std::vector<std::uint8_t>& frame()
    {
        const auto length = static_cast<std::uint32_t>(bytes_.size() - kLengthBytes);
        for (std::size_t i = 0; i < kLengthBytes; ++i) {
            bytes_[i] = static_cast<std::uint8_t>(length >> (8 * (kLengthBytes - 1 - i)));
        }
        return bytes_;
    }

private:
    std::vector<std::uint8_t> bytes_ = std::vector<std::uint8_t>(kLengthBytes, 0);
};

/// Reads the fields of one payload (without its length prefix).
class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    explicit Reader(const std::vector<std::uint8_t>& payload) : Reader(payload.data(), payload.size()) {}

    std::uint8_t u8() { return take(1)[0]; }
    std::uint64_t u64()
    {
        const auto* p = take(8);
        std::uint64_t value = 0;
        for (int i = 0; i < 8; ++i) value = (value << 8) | p[i];
        return value;
    }
    /// A byte string as a view into the payload.
    std::string_view view()
    {
        const auto* p = take(4);
        const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        return {reinterpret_cast<const char*>(take(length)), length};
    }
    std::string text() { return std::string(view()); }
    std::vector<std::uint8_t> bytes()
    {
        const auto v = view();
        return {v.begin(), v.end()};
    }
    bool done() const noexcept { return offset_ == size_; }

private:
    const std::uint8_t* take(std::size_t count)
    {
        if (size_ - offset_ < count) throw WireError("a message ends early");
        const auto* p = data_ + offset_;
        offset_ += count;
        return p;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
};

/// The length a frame's 4-byte prefix announces.
inline std::uint32_t frameLength(const std::uint8_t* prefix)
{
    return (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) | (std::uint32_t{prefix[2]} << 8) | prefix[3];
}

}  // namespace inkan::pkcs11::wire
