// `inkan events`: follow inkand's event stream (docs/events.md), one line per
// event, until Ctrl-C. Reconnects by itself, resuming after the last event.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "client-sdk/cli/commands.hpp"
#include "client-sdk/cli/event_stream.hpp"
#include "client-sdk/cli/failure.hpp"

namespace inkan::cli {

namespace {

// inkand sends a heartbeat every 15 s; three missed ones mean the connection is gone.
constexpr std::chrono::seconds kSilenceLimit{45};
// Until the stream says otherwise (its `retry:` field).
constexpr long kDefaultRetryMs = 2'000;
constexpr auto kStopPollInterval = std::chrono::milliseconds(100);

std::atomic<bool> gStopRequested{false};

extern "C" void onStopSignal(int) { gStopRequested.store(true); }

/// SIGINT and SIGTERM end the command normally (exit 0) for its lifetime.
class StopSignals {
public:
    StopSignals()
    {
        gStopRequested.store(false);
        struct sigaction action {};
        action.sa_handler = onStopSignal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, &previousInt_);
        sigaction(SIGTERM, &action, &previousTerm_);
    }
    ~StopSignals()
    {
        sigaction(SIGINT, &previousInt_, nullptr);
        sigaction(SIGTERM, &previousTerm_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    static bool requested() { return gStopRequested.load(); }

private:
    struct sigaction previousInt_ {};
    struct sigaction previousTerm_ {};
};

std::string localTime()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

/// Waits `milliseconds` unless a stop is requested first.
void pause(long milliseconds)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
    while (!StopSignals::requested() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(kStopPollInterval);
}

}  // namespace

void addEventsCommand(Commands& commands)
{
    auto lastEventId = std::make_shared<std::string>();
    CLI::App& command = commands.add(
        commands.root(), "events",
        "Follow inkand's events (readers, cards, PIN state, certificate expiry) until Ctrl-C; "
        "with --json one JSON object per line",
        [lastEventId](Session& session) {
            const StopSignals signals;
            ApiClient& api = session.api();
            const bool json = session.json();
            std::optional<std::string> resumeFrom;
            if (!lastEventId->empty()) resumeFrom = *lastEventId;

            EventStreamParser parser([&](const StreamEvent& event) {
                if (json) {
                    std::cout << eventAsJsonLine(event) << std::endl;  // flushed: a pipe sees every event at once
                    return;
                }
                const auto data = nlohmann::json::parse(event.data, nullptr, /*allow_exceptions=*/false);
                std::cout << localTime() << "  " << describeEvent(event.type, data.is_discarded() ? nlohmann::json() : data)
                          << std::endl;
            });

            bool connectedOnce = false;
            while (!StopSignals::requested()) {
                bool sawData = false;
                bool broken = false;
                try {
                    const bool ended = api.stream(
                        "/events", parser.lastEventId() ? parser.lastEventId() : resumeFrom,
                        [&](std::string_view bytes) {
                            sawData = true;
                            if (!parser.feed(bytes)) broken = true;
                        },
                        [&] { return !StopSignals::requested() && !broken; }, kSilenceLimit);
                    if (broken) throw Failure(ExitCode::ApiError, "the answer of 127.0.0.1:" + std::to_string(api.port()) + " is not inkand's event stream");
                    if (!ended) break;  // stopped by the user
                    session.note("inkan: inkand ended the event stream (it may be stopping); reconnecting");
                } catch (const Failure& failure) {
                    // The first connection must work; after that, inkand restarting is normal.
                    if (!connectedOnce && !sawData) throw;
                    if (failure.code() != ExitCode::Unreachable) throw;
                    session.note(std::string("inkan: ") + failure.what() + "; reconnecting");
                }
                connectedOnce = connectedOnce || sawData;
                pause(parser.retryMilliseconds().value_or(kDefaultRetryMs));
            }
            return ExitCode::Ok;
        });
    command.add_option("--last-event-id", *lastEventId,
                       "Resume after this event id (printed with --json): the events since then come first, "
                       "or a reset event when they are no longer kept");
}

}  // namespace inkan::cli
