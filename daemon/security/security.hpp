// inkan — the security layer as one object: the policy from the config, the
// paired origins, the dialogs and the guarded card access, wired together
// (docs/security.md). inkand builds one; the API asks it every question
// about who may do what.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "daemon/security/card_access.hpp"
#include "daemon/security/dialogs.hpp"
#include "daemon/security/pairing_store.hpp"
#include "daemon/security/policy.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::security {

struct SecurityOptions {
    PolicySettings settings;
    /// <state>/pairings.json; empty: pairings live in memory only.
    std::filesystem::path pairingsFile;
    /// One line per security decision worth keeping (never a PIN); null: stderr.
    std::function<void(std::string_view line)> log;
};

class Security {
public:
    /// `agent` must outlive this object.
    Security(CardAgent& agent, SecurityOptions options);
    /// Closes any open dialog first, so nothing runs on behalf of a request afterwards.
    ~Security();

    Security(const Security&) = delete;
    Security& operator=(const Security&) = delete;

    const Policy& policy() const noexcept { return *policy_; }
    PairingStore& pairings() noexcept { return *pairings_; }
    std::shared_ptr<const PairingStore> sharedPairings() const noexcept { return pairings_; }
    CardAccess& cards() noexcept { return *cards_; }
    bool dialogsAvailable() const { return dialogs_->available(); }

private:
    void offerPairingDialog(const Pairing& pairing);
    void log(std::string_view line) const;

    std::function<void(std::string_view)> log_;
    std::shared_ptr<const Policy> policy_;
    std::shared_ptr<PairingStore> pairings_;
    std::shared_ptr<DialogRunner> dialogs_;
    std::unique_ptr<CardAccess> cards_;
    std::atomic<bool> pairingDialogOpen_{false};
};

}  // namespace inkan::security
