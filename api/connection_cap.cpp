#include "api/connection_cap.hpp"

#include <algorithm>

namespace inkan::api {

CapDecision decideAdmission(std::span<const OpenConnection> open, std::size_t maxConnections, std::size_t reserved)
{
    const std::size_t pendingCap = reserved < maxConnections ? maxConnections - reserved : 1;
    const std::size_t pending = static_cast<std::size_t>(
        std::count_if(open.begin(), open.end(), [](const OpenConnection& c) { return !c.established; }));
    // The newcomer is pending itself.
    if (open.size() < maxConnections && pending < pendingCap) return {};

    const OpenConnection* oldest = nullptr;
    for (const auto& connection : open) {
        if (!connection.established && (!oldest || connection.accepted < oldest->accepted)) oldest = &connection;
    }
    if (!oldest) return {CapDecision::Kind::Refuse, 0};
    return {CapDecision::Kind::EvictAndAdmit, static_cast<std::size_t>(oldest - open.data())};
}

}  // namespace inkan::api
