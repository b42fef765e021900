// inkan — the cards the API serves: those in PC/SC readers (the card
// service) and the other sources beside them (the file credentials, each
// PKCS#11 module's tokens), as one CardAgent. Each call goes to whichever
// source holds the card id, the readers when none does; listings are all of
// them, readers' cards first, then the sources in their order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/service/card_agent.hpp"

namespace inkan::credentials {

/// A source of cards beside the readers, and how to tell its card ids.
struct CardSource {
    CardAgent* agent = nullptr;
    std::function<bool(const std::string& cardId)> has;
};

/// A source that tells its own ids (FileCredentials, pkcs11::Pkcs11Tokens).
template <class Agent>
CardSource sourceOf(Agent& agent)
{
    return CardSource{&agent, [&agent](const std::string& cardId) { return agent.has(cardId); }};
}

class CombinedAgent final : public CardAgent {
public:
    /// All must outlive this object.
    CombinedAgent(CardAgent& readers, std::vector<CardSource> sources) : readers_(readers), sources_(std::move(sources)) {}

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
        for (auto& source : sources_) source.agent->shutdown();
    }

private:
    CardAgent& of(const std::string& cardId)
    {
        for (auto& source : sources_) {
            if (source.has(cardId)) return *source.agent;
        }
        return readers_;
    }

    CardAgent& readers_;
    std::vector<CardSource> sources_;
};

}  // namespace inkan::credentials
