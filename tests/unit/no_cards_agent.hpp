// inkan tests — a CardAgent with no card anywhere: status answers, every card
// operation says CARD_NOT_FOUND (which proves a request got past the gate).
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "daemon/error.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::test {

class NoCards final : public CardAgent {
public:
    explicit NoCards(bool pcscAvailable = true) : pcscAvailable_(pcscAvailable) {}

    void status(Completion<AgentStatus> done) override { done(AgentStatus{pcscAvailable_, {}}); }
    void cards(Completion<std::vector<CardSummary>> done) override { done(std::vector<CardSummary>{}); }
    void card(const std::string&, Completion<CardSummary> done) override { done(none()); }
    void certificate(const std::string&, const std::string&, Completion<CertificateSummary> done) override { done(none()); }
    void pinStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(none()); }
    void unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(none()); }
    void verifyPin(const std::string&, const std::string&, PinInput, PinCheck, Completion<PinStatus> done) override { done(none()); }
    void changePin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(none()); }
    void unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(none()); }
    void sign(const std::string&, SignRequest, PinCheck, Completion<SignResult> done) override { done(none()); }
    void endPinVerification(const std::string&, Completion<std::monostate> done) override { done(none()); }
    void shutdown() override {}

private:
    static std::exception_ptr none() { return std::make_exception_ptr(Error(ErrorCode::CardNotFound, "no card")); }

    bool pcscAvailable_;
};

}  // namespace inkan::test
