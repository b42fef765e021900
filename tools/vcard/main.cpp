// inkan-vcard — a virtual card on pcscd's vpcd virtual reader, for tests and
// demos: the reference card (docs/reference-card.md, the default) or the My
// Number card's JPKI application (--profile jpki, docs/jpki.md). See --help.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <openssl/crypto.h>

#include "tools/vcard/card_store.hpp"
#include "tools/vcard/event_log.hpp"
#include "tools/vcard/jpki_card.hpp"
#include "tools/vcard/jpki_store.hpp"
#include "tools/vcard/virtual_card.hpp"
#include "tools/vcard/vpcd_link.hpp"

namespace {

using namespace inkan::vcard;

constexpr const char* kProgram = "inkan-vcard";
// How often a card that should be inserted retries reaching vpcd (pcscd down or restarting).
constexpr int kReconnectIntervalMs = 200;

constexpr const char* kProfileReference = "reference";
constexpr const char* kProfileJpki = "jpki";

constexpr const char* kDescription = R"(inkan-vcard: a virtual card on pcscd's vpcd virtual reader (Debian package
vsmartcard-vpcd), for tests and demos. --profile chooses the card:
  reference  the inkan reference card, docs/reference-card.md (default)
  jpki       the My Number card's JPKI application, docs/jpki.md

The card connects to vpcd as a TCP client; connected means inserted. vpcd in
pcscd listens on 35963 (reader slot 0) and 35964 (slot 1).

State (--state DIR, created 0700 on first start), reference card:
  card.json         serial, PIN and unblock-code state (salted SHA-256, tries left)
  signing-key.pem   RSA-2048 signing key (0600)      } generated on first start unless
  signing-cert.pem  signing certificate, EF C001     } --key/--cert are given: a demo CA
  ca-cert.pem       demo CA certificate, EF C002     } "inkan Demo Registrar CA" issues a
  demo-ca-key.pem   demo CA key (0600)               } 27-month leaf shaped like a
                                                       商業登記電子証明書 (registry
                                                       extensions included, critical)
  A new card starts with the demo credentials: user PIN 1234, unblock code
  12345678, 10 tries each (--max-tries), and a random 8-byte serial (EF D001).
  PIN changes, counters and keys survive restarts.

State, JPKI card (--profile jpki; --key/--cert/--ca-cert/--serial do not apply):
  jpki-card.json         auth and sign PIN state (salted SHA-256, tries left)
  jpki-auth-key.pem      user authentication key, EF 0017 (0600)
  jpki-auth-cert.pem     its certificate, EF 000A; its demo CA: jpki-auth-ca-cert.pem, EF 000B
  jpki-sign-key.pem      digital signature key, EF 001A (0600)
  jpki-sign-cert.pem     its certificate, EF 0001 (readable after the sign PIN);
                         its demo CA: jpki-sign-ca-cert.pem, EF 0002
  jpki-*-ca-key.pem      the demo CAs' keys (0600)
  A new card starts with the demo PINs: auth 1234 (4 digits, 3 tries), sign
  ABC123 (6-16 of A-Z 0-9, 5 tries). All names in the certificates say TEST.

Hot-plug (signals):
  SIGUSR1  remove the card (close the vpcd socket and stay out)
  SIGUSR2  insert it again (reconnect)
  SIGTERM, SIGINT  exit cleanly
  While inserted, a lost connection (pcscd restarted) is retried every 200 ms.

Log (--log FILE), one line per APDU or event, appended and flushed at once:
  <RFC 3339 UTC with ms> <command APDU hex> <status word hex>
  <RFC 3339 UTC with ms> # power-on|power-off|reset|atr|connected|disconnected|removed|inserted
  The data of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER is written as
  <redacted:N> (N bytes); PINs are never written anywhere.)";

// Signal handlers only write the signal number to this pipe; the main loop reads it.
int gSignalPipe[2] = {-1, -1};

extern "C" void onSignal(int signo)
{
    const int savedErrno = errno;
    const auto byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] const auto n = ::write(gSignalPipe[1], &byte, 1);
    errno = savedErrno;
}

void installSignalHandlers()
{
    if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() must wake up
    for (const int signo : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) ::sigaction(signo, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

/// Removes the pid file on exit, if we wrote one.
class PidFile {
public:
    explicit PidFile(std::optional<std::filesystem::path> path) : path_(std::move(path))
    {
        if (!path_) return;
        const std::string text = std::to_string(::getpid()) + "\n";
        writeFileAtomically(*path_, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    }
    ~PidFile()
    {
        if (path_) {
            std::error_code ec;
            std::filesystem::remove(*path_, ec);
        }
    }
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

private:
    std::optional<std::filesystem::path> path_;
};

void status(const std::string& line)
{
    std::cerr << kProgram << ": " << line << std::endl;
}

/// Runs until SIGTERM/SIGINT. The card starts inserted.
void run(EmulatedCard& card, VpcdLink& link, EventLog& log, const std::string& cardName)
{
    bool inserted = true;
    bool announcedWaiting = false;

    const auto cardGone = [&](CardEvent why) {
        card.powerOff();  // removal ends the session like a power-off
        log.event(why);
    };

    for (;;) {
        if (inserted && !link.connected()) {
            if (link.connect()) {
                announcedWaiting = false;
                log.event(CardEvent::Connected);
                status("card inserted into vpcd at " + link.endpoint() + " (" + cardName + ")");
            } else if (!announcedWaiting) {
                announcedWaiting = true;
                status("waiting for vpcd at " + link.endpoint() + " (" + link.lastError() + "), retrying every " +
                       std::to_string(kReconnectIntervalMs) + " ms");
            }
        }

        pollfd fds[2] = {{gSignalPipe[0], POLLIN, 0}, {link.fd(), POLLIN, 0}};
        const nfds_t count = link.connected() ? 2 : 1;
        const int timeout = inserted && !link.connected() ? kReconnectIntervalMs : -1;
        const int ready = ::poll(fds, count, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }

        if (fds[0].revents & POLLIN) {
            unsigned char signo = 0;
            while (::read(gSignalPipe[0], &signo, 1) == 1) {
                switch (signo) {
                case SIGTERM:
                case SIGINT:
                    if (link.connected()) {
                        link.disconnect();
                        cardGone(CardEvent::Disconnected);
                    }
                    status("exiting");
                    return;
                case SIGUSR1:
                    if (!inserted) break;
                    inserted = false;
                    link.disconnect();
                    cardGone(CardEvent::Removed);
                    status("card removed (SIGUSR1)");
                    break;
                case SIGUSR2:
                    if (inserted) break;
                    inserted = true;
                    log.event(CardEvent::Inserted);
                    status("card inserted (SIGUSR2), connecting");
                    break;
                default: break;
                }
            }
        }

        if (count == 2 && link.connected() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            auto message = link.receive();
            const bool stillUp = message && [&] {
                const auto reply = vpcd::handleMessage(card, log, *message);
                return !reply || link.send(*reply);
            }();
            // The command may have carried a PIN block: do not leave it in freed memory.
            if (message && !message->empty()) OPENSSL_cleanse(message->data(), message->size());
            if (!stillUp) {
                link.disconnect();
                cardGone(CardEvent::Disconnected);
                status("disconnected from vpcd (" + link.lastError() + "); reconnecting");
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, kProgram};
    std::string host = "127.0.0.1";
    std::uint16_t port = vpcd::kDefaultPort;
    std::filesystem::path stateDir;
    std::optional<std::filesystem::path> keyFile, certFile, caCertFile, logFile, pidFile;
    std::optional<std::string> serialText;
    unsigned latencyMs = 0;
    std::optional<int> maxTries;
    std::string profile = kProfileReference;

    app.add_option("--profile", profile, "the card to emulate: reference or jpki")
        ->check(CLI::IsMember({kProfileReference, kProfileJpki}))
        ->capture_default_str();
    app.add_option("--host", host, "vpcd host (pcscd's vpcd driver)")->capture_default_str();
    app.add_option("--port", port, "vpcd port: 35963 = reader slot 0, 35964 = slot 1")->capture_default_str();
    app.add_option("--state", stateDir, "state directory (created on first start)")->required();
    auto* keyOpt = app.add_option("--key", keyFile, "PEM private key (RSA-2048) to use instead of the generated one");
    auto* certOpt = app.add_option("--cert", certFile, "certificate (PEM or DER) for --key, shown as EF C001");
    keyOpt->needs(certOpt);
    certOpt->needs(keyOpt);
    app.add_option("--ca-cert", caCertFile, "CA certificate shown as EF C002 with --key/--cert (else C002 is absent)")
        ->needs(certOpt);
    app.add_option("--serial", serialText, "card serial for this run, 16 hex digits (not stored)")
        ->check([](const std::string& v) {
            return parseCardSerial(v) ? std::string() : std::string("needs exactly 16 hex digits");
        });
    app.add_option("--log", logFile, "append one line per APDU/event to FILE (see above)");
    app.add_option("--latency-ms", latencyMs, "delay before answering a signing command, in ms")->capture_default_str();
    app.add_option("--pid-file", pidFile, "write the process id to FILE (removed on exit)");
    app.add_option("--max-tries", maxTries,
                   "a new card's maximum of PIN and unblock-code tries, 1-15 (default 10; told in the FCI of SELECT)");
    CLI11_PARSE(app, argc, argv);

    if (profile == kProfileJpki && (keyFile || certFile || caCertFile || serialText)) {
        status("error: --key, --cert, --ca-cert and --serial are the reference card's; the JPKI card makes its own");
        return 2;
    }

    try {
        const StateDirLock lock(stateDir);
        EventLog log = logFile ? EventLog(*logFile) : EventLog();
        VpcdLink link(host, port);
        if (profile == kProfileJpki) {
            jpki::JpkiStore store = jpki::JpkiStore::open(stateDir);
            jpki::JpkiCard card(store, jpki::JpkiCardOptions{std::chrono::milliseconds(latencyMs)});
            installSignalHandlers();
            const PidFile pid(pidFile);
            run(card, link, log, "JPKI card");
            return 0;
        }

        StoreOptions storeOptions{stateDir, keyFile, certFile, caCertFile, std::nullopt, maxTries};
        if (serialText) storeOptions.serialOverride = parseCardSerial(*serialText);

        CardStore store = CardStore::open(storeOptions);
        VirtualCard card(store, CardOptions{std::chrono::milliseconds(latencyMs)});

        installSignalHandlers();
        const PidFile pid(pidFile);
        run(card, link, log, "serial " + toHex(store.serial()));
        return 0;
    } catch (const std::exception& e) {
        status(std::string("error: ") + e.what());
        return 1;
    }
}
