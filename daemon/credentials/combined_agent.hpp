// inkan — the cards the API serves: those in PC/SC readers (the card
// service) and the file credentials beside them, as one CardAgent. Each call
// goes to whichever holds the card id; listings are both, readers' cards first.
#pragma once

#include "daemon/credentials/file_credentials.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::credentials {

class CombinedAgent final : public CardAgent {
public:
    /// Both must outlive this object.
    CombinedAgent(CardAgent& readers, FileCredentials& files) : readers_(readers), files_(files) {}

    void status(Completion<AgentStatus> done) override { readers_.status(std::move(done)); }
    void cards(Completion<std::vector<CardSummary>> done) override;
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        of(cardId).card(cardId, std::move(done));
    }
    void certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done) override
    {
        of(cardId).certificate(cardId, certId, std::move(done));
    }
    void pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override
    {
        of(cardId).pinStatus(cardId, pinId, std::move(done));
    }
    void unblockCodeStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override
    {
        of(cardId).unblockCodeStatus(cardId, pinId, std::move(done));
    }
    void verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                   Completion<PinStatus> done) override
    {
        of(cardId).verifyPin(cardId, pinId, std::move(pin), std::move(check), std::move(done));
    }
    void changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin, PinCheck check,
                   Completion<PinStatus> done) override
    {
        of(cardId).changePin(cardId, pinId, std::move(pin), std::move(newPin), std::move(check), std::move(done));
    }
    void unblockPin(const std::string& cardId, const std::string& pinId, PinInput unblockCode, PinInput newPin,
                    PinCheck check, Completion<PinStatus> done) override
    {
        of(cardId).unblockPin(cardId, pinId, std::move(unblockCode), std::move(newPin), std::move(check), std::move(done));
    }
    void sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done) override
    {
        of(cardId).sign(cardId, std::move(request), std::move(check), std::move(done));
    }
    void endPinVerification(const std::string& cardId, Completion<std::monostate> done) override
    {
        of(cardId).endPinVerification(cardId, std::move(done));
    }
    void shutdown() override
    {
        readers_.shutdown();
        files_.shutdown();
    }

private:
    CardAgent& of(const std::string& cardId) { return files_.has(cardId) ? static_cast<CardAgent&>(files_) : readers_; }

    CardAgent& readers_;
    FileCredentials& files_;
};

}  // namespace inkan::credentials
