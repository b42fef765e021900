// inkan-vpinpad — buffers that hold a typed PIN, wiped when they die.
//
// The driver lives inside pcscd, which links no OpenSSL, so this is the
// explicit_bzero counterpart of inkan::Secret (daemon/secret.hpp): move-only,
// capacity reserved once so no reallocation leaves an unwiped copy behind,
// never printable.
#pragma once

#include <string.h>  // explicit_bzero (glibc)

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inkan::vpinpad {

/// One keypad entry's characters (a PIN, an unblock code).
class WipedText {
public:
    WipedText() = default;
    explicit WipedText(std::string_view value) { assign(value); }
    ~WipedText() { wipe(); }

    WipedText(const WipedText&) = delete;
    WipedText& operator=(const WipedText&) = delete;
    WipedText(WipedText&& other) noexcept { swapWith(other); }
    WipedText& operator=(WipedText&& other) noexcept
    {
        if (this != &other) {
            wipe();
            swapWith(other);
        }
        return *this;
    }

    std::string_view view() const noexcept { return value_; }
    std::size_t size() const noexcept { return value_.size(); }

    void wipe() noexcept
    {
        if (!value_.empty()) ::explicit_bzero(value_.data(), value_.size());
        value_.clear();
    }

private:
    // A moved std::string may keep short strings inline; swapping keeps the
    // bytes in exactly one object, which wipes them.
    void swapWith(WipedText& other) noexcept { value_.swap(other.value_); }

    void assign(std::string_view value)
    {
        wipe();
        value_.reserve(value.size() < kMinCapacity ? kMinCapacity : value.size());
        value_.assign(value.data(), value.size());
    }

    static constexpr std::size_t kMinCapacity = 64;
    std::string value_;
};

/// A byte buffer that may carry a PIN block (a built VERIFY APDU, a vpcd
/// frame, the keypad file's contents). Fixed size after construction.
class WipedBytes {
public:
    explicit WipedBytes(std::size_t size) : bytes_(size, 0) {}
    explicit WipedBytes(std::span<const std::uint8_t> initial) : bytes_(initial.begin(), initial.end()) {}
    ~WipedBytes()
    {
        if (!bytes_.empty()) ::explicit_bzero(bytes_.data(), bytes_.size());
    }

    WipedBytes(const WipedBytes&) = delete;
    WipedBytes& operator=(const WipedBytes&) = delete;
    WipedBytes(WipedBytes&&) = delete;
    WipedBytes& operator=(WipedBytes&&) = delete;

    std::span<std::uint8_t> span() noexcept { return bytes_; }
    std::span<const std::uint8_t> view() const noexcept { return bytes_; }
    std::uint8_t* data() noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }

private:
    std::vector<std::uint8_t> bytes_;
};

}  // namespace inkan::vpinpad
