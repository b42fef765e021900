#include "daemon/pcsc/apdu.hpp"

#include <string>

#include "daemon/error.hpp"

namespace inkan::pcsc {

namespace {

// A short Le of 256 travels as 00 (ISO/IEC 7816-4 §5.1).
constexpr std::uint8_t encodeShortLe(std::size_t le) { return le == CommandApdu::kMaxShortLe ? 0x00 : static_cast<std::uint8_t>(le); }

}  // namespace

CommandApdu::CommandApdu(ApduHeader header, Bytes data, std::optional<std::size_t> le)
    : header_(header), data_(std::move(data)), le_(le)
{
    if (const auto size = data_.size(); size > kMaxShortData) {
        wipe(data_);
        throw Error(ErrorCode::Internal,
                    "command APDU data of " + std::to_string(size) + " bytes does not fit a short APDU");
    }
    if (le_ && (*le_ == 0 || *le_ > kMaxShortLe)) {
        wipe(data_);
        throw Error(ErrorCode::Internal, "command APDU Le " + std::to_string(*le_) + " is outside 1..256");
    }
}

CommandApdu::~CommandApdu() { wipe(data_); }

CommandApdu::CommandApdu(const CommandApdu& other) : header_(other.header_), data_(other.data_), le_(other.le_) {}

CommandApdu& CommandApdu::operator=(const CommandApdu& other)
{
    if (this != &other) {
        wipe(data_);
        header_ = other.header_;
        data_ = other.data_;
        le_ = other.le_;
    }
    return *this;
}

// Moving a vector hands over its buffer; the moved-from vector is empty, so no
// unwiped copy stays behind.
CommandApdu::CommandApdu(CommandApdu&& other) noexcept
    : header_(other.header_), data_(std::move(other.data_)), le_(other.le_)
{
    other.data_.clear();
}

CommandApdu& CommandApdu::operator=(CommandApdu&& other) noexcept
{
    if (this != &other) {
        wipe(data_);
        header_ = other.header_;
        data_ = std::move(other.data_);
        other.data_.clear();
        le_ = other.le_;
    }
    return *this;
}

CommandApdu CommandApdu::withLe(std::size_t le) const
{
    CommandApdu copy(*this);
    if (le == 0 || le > kMaxShortLe) {
        throw Error(ErrorCode::Internal, "command APDU Le " + std::to_string(le) + " is outside 1..256");
    }
    copy.le_ = le;
    return copy;
}

Bytes CommandApdu::encode() const
{
    Bytes out;
    // Reserved once so a PIN block is never left behind by a reallocation.
    out.reserve(4 + 1 + data_.size() + 1);
    out.push_back(header_.cla);
    out.push_back(header_.ins);
    out.push_back(header_.p1);
    out.push_back(header_.p2);
    if (!data_.empty()) {
        out.push_back(static_cast<std::uint8_t>(data_.size()));  // Lc
        out.insert(out.end(), data_.begin(), data_.end());
    }
    if (le_) out.push_back(encodeShortLe(*le_));
    return out;
}

ResponseApdu ResponseApdu::fromBytes(ByteView bytes)
{
    if (bytes.size() < 2) {
        throw Error(ErrorCode::CardError,
                    "the card answered with " + std::to_string(bytes.size()) + " bytes, without a status word");
    }
    const auto sw = static_cast<std::uint16_t>((bytes[bytes.size() - 2] << 8) | bytes[bytes.size() - 1]);
    return ResponseApdu(Bytes(bytes.begin(), bytes.end() - 2), sw);
}

Bytes ResponseApdu::toBytes() const
{
    Bytes out;
    out.reserve(data_.size() + 2);
    out.insert(out.end(), data_.begin(), data_.end());
    out.push_back(sw1());
    out.push_back(sw2());
    return out;
}

}  // namespace inkan::pcsc
