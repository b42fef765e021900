#include "daemon/security/security.hpp"

#include <iostream>
#include <optional>
#include <string>

#include "daemon/error.hpp"

namespace inkan::security {

namespace {

std::optional<Pinentry> pinentryFor(const PolicySettings& settings)
{
    if (!settings.pinentryProgram) return std::nullopt;
    return Pinentry(Pinentry::Options{*settings.pinentryProgram, settings.pinentryTimeout});
}

}  // namespace

Security::Security(CardAgent& agent, SecurityOptions options) : log_(std::move(options.log))
{
    auto dialogs = std::make_shared<DialogRunner>(pinentryFor(options.settings));
    dialogs_ = dialogs;
    policy_ = std::make_shared<const Policy>(std::move(options.settings), dialogs->available());

    PairingStoreOptions store;
    store.file = std::move(options.pairingsFile);
    store.warn = [this](const std::string& line) { log(line); };
    pairings_ = std::make_shared<PairingStore>(std::move(store));
    pairings_->onRequested([this](const Pairing& pairing) {
        log("pairing requested by " + pairing.origin + " (id " + pairing.id + "); approve with `inkan pair approve " +
            pairing.id + "`");
        offerPairingDialog(pairing);
    });

    CardAccessOptions access;
    access.policy = policy_;
    access.pairings = pairings_;
    access.dialogs = dialogs_;
    access.log = [this](std::string_view line) { log(line); };
    cards_ = std::make_unique<CardAccess>(agent, std::move(access));
}

Security::~Security()
{
    pairings_->onRequested(nullptr);
    dialogs_->stop();  // no dialog work runs after this, so nothing below is used any more
}

void Security::log(std::string_view line) const
{
    if (log_) {
        log_(line);
        return;
    }
    std::cerr << "inkand: " << line << '\n';
}

void Security::offerPairingDialog(const Pairing& pairing)
{
    if (!policy_->settings().pairingDialog || !dialogs_->available()) return;
    // One confirmation on screen at a time: a page asking again and again must
    // not bury the desktop in dialogs. The CLI can approve the rest.
    if (pairingDialogOpen_.exchange(true)) return;
    const std::string id = pairing.id;
    const std::string origin = pairing.origin;
    const std::string code = displayCode(pairing.code);
    dialogs_->post(
        [this, id, origin, code](const Pinentry& pinentry, const Abandoned& stopping) {
            ConfirmPrompt prompt;
            prompt.title = "inkan: allow a web site?";
            prompt.description = "The web page at\n" + origin + "\nasks to use your IC card through inkan: read its "
                                 "certificates and sign (each signature still needs the PIN).\n\nAllow it only if you "
                                 "opened this page yourself and it shows the code\n" + code;
            prompt.okLabel = "Allow";
            prompt.notOkLabel = "Deny";
            prompt.cancelLabel = "Not now";
            // Approved or denied elsewhere meanwhile (inkan pair approve): close the dialog.
            const Abandoned settled = [this, id, &stopping] {
                if (stopping()) return true;
                const auto current = pairings_->find(id);
                return !current || current->status != Pairing::Status::Pending;
            };
            try {
                switch (pinentry.confirm(prompt, settled)) {
                case ConfirmAnswer::Yes:
                    pairings_->approveConfirmed(id);
                    log("pairing " + id + " of " + origin + " approved in the dialog");
                    break;
                case ConfirmAnswer::No:
                    pairings_->deny(id);
                    log("pairing " + id + " of " + origin + " denied in the dialog");
                    break;
                case ConfirmAnswer::Dismissed: break;  // still pending: `inkan pair approve` decides
                }
            } catch (const Error& e) {
                // The pairing stays pending: `inkan pair approve` still works.
                if (e.code() != ErrorCode::PinCancelled && e.code() != ErrorCode::PairingNotPending) {
                    log("pairing dialog for " + origin + " not shown: " + e.what());
                }
            } catch (const std::exception& e) {
                log("pairing dialog for " + origin + " failed: " + e.what());
            }
            pairingDialogOpen_ = false;
        },
        [this](std::exception_ptr) { pairingDialogOpen_ = false; });
}

}  // namespace inkan::security
