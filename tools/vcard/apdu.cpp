// inkan-vcard — ISO/IEC 7816-4 APDU pieces shared by the emulated cards.
#include "tools/vcard/apdu.hpp"

#include <algorithm>
#include <array>

namespace inkan::vcard::apdu {

namespace {

// DigestInfo DER prefixes (RFC 8017 §9.2, note 1): SEQUENCE { AlgorithmIdentifier
// { OID, NULL }, OCTET STRING hash }. The card accepts exactly these three forms.
constexpr std::array<std::uint8_t, 19> kDigestInfoSha256{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::array<std::uint8_t, 19> kDigestInfoSha384{0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
constexpr std::array<std::uint8_t, 19> kDigestInfoSha512{0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

}  // namespace

Bytes status(std::uint16_t sw)
{
    return {static_cast<std::uint8_t>(sw >> 8), static_cast<std::uint8_t>(sw & 0xFF)};
}

Bytes dataAndStatus(ByteView data, std::uint16_t sw)
{
    Bytes out(data.begin(), data.end());
    out.push_back(static_cast<std::uint8_t>(sw >> 8));
    out.push_back(static_cast<std::uint8_t>(sw & 0xFF));
    return out;
}

std::uint16_t withCount(std::uint16_t sw, std::size_t count)
{
    return static_cast<std::uint16_t>(sw | (count >= kShortLeMax ? 0 : count));
}

std::uint16_t verifyFailed(int triesLeft)
{
    return static_cast<std::uint16_t>(kSwVerifyFailed | (triesLeft & 0x0F));
}

bool isSha2DigestInfo(ByteView data)
{
    const auto matches = [&](const auto& prefix) {
        // The last prefix byte is the hash length.
        return data.size() == prefix.size() + prefix.back() && std::equal(prefix.begin(), prefix.end(), data.begin());
    };
    return matches(kDigestInfoSha256) || matches(kDigestInfoSha384) || matches(kDigestInfoSha512);
}

std::optional<Command> Command::parse(ByteView apdu)
{
    if (apdu.size() < kHeaderLength) return std::nullopt;
    Command c{apdu[0], apdu[1], apdu[2], apdu[3], {}, std::nullopt};
    if (apdu.size() == kHeaderLength) return c;  // case 1
    const std::size_t p3 = apdu[kHeaderLength];
    if (apdu.size() == kHeaderLength + 1) {  // case 2
        c.le = p3 == 0 ? kShortLeMax : p3;
        return c;
    }
    if (p3 == 0) return std::nullopt;  // extended length: not supported
    const std::size_t bodyStart = kHeaderLength + 1;
    if (apdu.size() == bodyStart + p3) {  // case 3
        c.data = apdu.subspan(bodyStart, p3);
        return c;
    }
    if (apdu.size() == bodyStart + p3 + 1) {  // case 4
        c.data = apdu.subspan(bodyStart, p3);
        const std::size_t le = apdu.back();
        c.le = le == 0 ? kShortLeMax : le;
        return c;
    }
    return std::nullopt;
}

Bytes PendingResponse::offer(Bytes data)
{
    data_ = std::move(data);
    offset_ = 0;
    return status(withCount(kSwBytesRemaining, data_.size()));
}

Bytes PendingResponse::answerWithin(Bytes data, std::size_t le)
{
    data_ = std::move(data);
    offset_ = 0;
    Command all{};
    all.le = le;
    return getResponse(all);
}

Bytes PendingResponse::getResponse(const Command& c)
{
    if (c.p1 != 0 || c.p2 != 0) return status(kSwWrongP1P2);
    if (c.hasData() || !c.le) return status(kSwWrongLength);
    if (offset_ >= data_.size()) return status(kSwConditionsNotSatisfied);
    const std::size_t left = data_.size() - offset_;
    const std::size_t n = std::min(*c.le, left);
    const ByteView chunk = ByteView(data_).subspan(offset_, n);
    offset_ += n;
    const std::size_t remaining = data_.size() - offset_;
    Bytes out = dataAndStatus(chunk, remaining > 0 ? withCount(kSwBytesRemaining, remaining) : kSwOk);
    if (remaining == 0) clear();
    return out;
}

void PendingResponse::forgetUnlessGetResponse(ByteView apdu) noexcept
{
    if (apdu.size() < 2 || apdu[1] != kInsGetResponse) clear();
}

void PendingResponse::clear() noexcept
{
    data_.clear();
    offset_ = 0;
}

}  // namespace inkan::vcard::apdu
