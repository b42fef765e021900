// inkan — PKCS#12 files as credentials (docs/credentials.md): the
// 商業登記電子証明書 kept as a .p12/.pfx file, listed and used like a card.
//
// Each credential lives under <state>/keys/ (0700) as two 0600 files: the
// imported file exactly as it was (still encrypted: inkan never writes the
// private key in the clear, not even temporarily) and <id>.json with what
// may be known without the password (the certificate and its chain, DER) and
// the try counter inkand keeps for it (a file has none of its own): 10
// tries, PIN_BLOCKED when spent, reset by importing the file again.
//
// As a CardAgent it answers for its own credentials only (has()); the daemon
// puts it beside the PC/SC card service (combined_agent.hpp). Its PIN is the
// file's password ("password"); its one key signs with certificate "sign".
// Operations run one at a time on its own worker thread; the key is decrypted
// in memory for one operation and freed (OpenSSL clears it).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/credentials/pkcs12_file.hpp"
#include "daemon/service/card_agent.hpp"
#include "daemon/service/card_events.hpp"
#include "daemon/service/worker.hpp"

namespace inkan::credentials {

inline constexpr std::string_view kPkcs12Profile = "pkcs12";
inline constexpr std::string_view kFileReader = "file";
inline constexpr std::string_view kPasswordPinId = "password";
inline constexpr int kFileMaxTries = 10;

struct ImportResult {
    CardSummary card;
    std::vector<std::string> warnings;  // e.g. the certificate has expired
};

class FileCredentials final : public CardAgent {
public:
    /// `dir` is created (0700) when missing. `events` tells the event stream
    /// what a card in a reader would: card-inserted on import, card-removed on
    /// removal, pin-status after each password use. `now` judges certificate expiry.
    explicit FileCredentials(std::filesystem::path dir, service::CardEvents events = service::CardEvents({}, 0),
                             std::function<std::chrono::system_clock::time_point()> now = {});
    ~FileCredentials() override;

    /// Whether `cardId` is one of these credentials.
    bool has(const std::string& cardId) const;

    /// Checks `file` with `password` (the key matches the certificate, RSA >=
    /// 2048 or EC P-256/384; an expired certificate is a warning) and stores
    /// it as it is; a file imported again replaces the credential and resets
    /// its counter. Throws PinIncorrect (wrong password) or CredentialInvalid;
    /// nothing is stored then.
    ImportResult importFile(pcsc::ByteView file, const Secret& password);
    /// Deletes credential `cardId`; CardNotFound when there is none.
    void remove(const std::string& cardId);

    void status(Completion<AgentStatus> done) override;
    void cards(Completion<std::vector<CardSummary>> done) override;
    void card(const std::string& cardId, Completion<CardSummary> done) override;
    void certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done) override;
    void pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override;
    void unblockCodeStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done) override;
    void verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                   Completion<PinStatus> done) override;
    void changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin, PinCheck check,
                   Completion<PinStatus> done) override;
    void unblockPin(const std::string& cardId, const std::string& pinId, PinInput unblockCode, PinInput newPin,
                    PinCheck check, Completion<PinStatus> done) override;
    void sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done) override;
    void endPinVerification(const std::string& cardId, Completion<std::monostate> done) override;
    void shutdown() override;

private:
    struct Entry;

    template <class T, class Body>
    void run(Body body, Completion<T> done);
    Entry& find(const std::string& cardId);
    CardSummary summaryOf(const Entry& entry) const;
    void saveCounter(const Entry& entry) const;
    /// Opens the file with `password`, spending and restoring the counter as a
    /// card would, and announces the counter after `operation`.
    OpenedPkcs12 open(Entry& entry, const PinInput& password, const PinCheck& check, service::PinOperation operation);

    std::filesystem::path dir_;
    service::CardEvents events_;
    std::function<std::chrono::system_clock::time_point()> now_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Entry>> entries_;
    service::Worker worker_;
};

}  // namespace inkan::credentials
