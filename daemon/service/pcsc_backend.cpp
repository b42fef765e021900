#include <optional>

#include "daemon/pcsc/card_connection.hpp"
#include "daemon/service/card_backend.hpp"

namespace inkan::service {

namespace {

class PcscBackend final : public CardBackend {
public:
    void start(pcsc::ReaderEventCallback onEvent) override
    {
        monitor_.emplace(std::move(onEvent));
        monitor_->start();
    }

    void stop() override
    {
        if (monitor_) monitor_->stop();
    }

    std::unique_ptr<pcsc::CardHandle> connect(const std::string& reader) override
    {
        return std::make_unique<pcsc::CardConnection>(reader);
    }

private:
    std::optional<pcsc::ReaderMonitor> monitor_;
};

}  // namespace

std::shared_ptr<CardBackend> makePcscBackend() { return std::make_shared<PcscBackend>(); }

}  // namespace inkan::service
