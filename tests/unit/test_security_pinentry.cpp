// The Assuan protocol of pinentry, and inkand's pinentry client against
// scripted pinentry programs (small shell scripts that answer as told).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <sys/stat.h>

#include "daemon/error.hpp"
#include "daemon/security/assuan.hpp"
#include "daemon/security/card_access.hpp"
#include "daemon/security/dialogs.hpp"
#include "daemon/security/pinentry.hpp"
#include "tests/unit/reference_card_summary.hpp"

using namespace inkan;
using namespace inkan::security;
namespace fs = std::filesystem;

namespace {

/// A directory of scripted pinentry programs, removed afterwards.
struct Scripts {
    fs::path dir;
    Scripts()
    {
        std::string pattern = (fs::temp_directory_path() / "inkan-pinentry-XXXXXX").string();
        dir = ::mkdtemp(pattern.data());
    }
    ~Scripts() { fs::remove_all(dir); }

    /// A pinentry that greets, logs every command to `commands.log`, answers
    /// OK to everything but GETPIN / CONFIRM, which get the lines of `answer`
    /// (each a line of the protocol; "" answers nothing at all).
    fs::path pinentry(const std::string& name, const std::vector<std::string>& answer)
    {
        std::string reply = answer.empty() ? std::string("sleep 30") : std::string("printf '%s\\n'");
        for (const auto& line : answer) reply += " '" + line + "'";
        const fs::path path = dir / name;
        std::ofstream(path) << "#!/bin/sh\n"
                               "echo 'OK Pleased to meet you'\n"
                               "while IFS= read -r line; do\n"
                               "  printf '%s\\n' \"$line\" >> '" << (dir / "commands.log").string() << "'\n"
                               "  case \"$line\" in\n"
                               "    GETPIN*|CONFIRM*) " << reply << " ;;\n"
                               "    BYE*) echo 'OK closing connection'; exit 0 ;;\n"
                               "    *) echo OK ;;\n"
                               "  esac\n"
                               "done\n";
        ::chmod(path.c_str(), 0755);
        return path;
    }

    fs::path raw(const std::string& name, const std::string& body)
    {
        const fs::path path = dir / name;
        std::ofstream(path) << "#!/bin/sh\n" << body;
        ::chmod(path.c_str(), 0755);
        return path;
    }

    std::string commands() const
    {
        std::ifstream in(dir / "commands.log");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
};

Pinentry pinentryAt(const fs::path& program, std::chrono::seconds timeout = std::chrono::seconds(30))
{
    return Pinentry(Pinentry::Options{program, timeout});
}

PinPrompt prompt()
{
    PinPrompt p;
    p.title = "inkan";
    p.description = "https://portal.example.jp asks to sign with the IC card of\n株式会社いんかん商事\n100% sure";
    p.prompt = "PIN:";
    p.okLabel = "Sign";
    return p;
}

std::optional<ErrorCode> refusal(const std::function<void()>& action)
{
    try {
        action();
        return std::nullopt;
    } catch (const Error& e) {
        return e.code();
    }
}

}  // namespace

TEST_SUITE("security assuan")
{
    TEST_CASE("command arguments escape %, CR, LF and other control characters, and keep UTF-8")
    {
        CHECK(assuan::command("GETPIN") == "GETPIN");
        CHECK(assuan::command("SETDESC", "a\nb\r100%\tc") == "SETDESC a%0Ab%0D100%25%09c");
        CHECK(assuan::command("SETDESC", "商号") == "SETDESC 商号");
    }

    TEST_CASE("a command never exceeds the line limit and is cut between characters")
    {
        const std::string longText(2000, 'x');
        CHECK(assuan::command("SETDESC", longText).size() < assuan::kMaxLineLength);
        std::string kanji;
        for (int i = 0; i < 500; ++i) kanji += "印";
        const std::string line = assuan::command("SETDESC", kanji);
        CHECK(line.size() < assuan::kMaxLineLength);
        CHECK((line.size() - std::string("SETDESC ").size()) % 3 == 0);  // whole three-byte characters only
        const std::string escapes(600, '\n');
        CHECK(assuan::command("SETDESC", escapes).size() < assuan::kMaxLineLength);
    }
}

TEST_SUITE("security pinentry")
{
    TEST_CASE("the PIN comes back from GETPIN; the dialog got the texts")
    {
        Scripts scripts;
        const Pinentry pinentry = pinentryAt(scripts.pinentry("answers", {"D 12%2534", "OK"}), std::chrono::seconds(42));
        CHECK(pinentry.available());
        const Secret pin = pinentry.getPin(prompt());
        CHECK(pin.view() == "12%34");
        const std::string commands = scripts.commands();
        CHECK(commands.find("SETTIMEOUT 42\n") != std::string::npos);
        CHECK(commands.find("SETDESC https://portal.example.jp asks to sign with the IC card of%0A株式会社いんかん商事%0A100%25 sure\n") !=
              std::string::npos);
        CHECK(commands.find("SETPROMPT PIN:\n") != std::string::npos);
        CHECK(commands.find("SETOK Sign\n") != std::string::npos);
        CHECK(commands.find("GETPIN\n") != std::string::npos);
        CHECK(commands.find("BYE\n") != std::string::npos);
        CHECK(commands.find("1234") == std::string::npos);
    }

    TEST_CASE("status and comment lines before the PIN are passed over")
    {
        Scripts scripts;
        const Pinentry pinentry = pinentryAt(scripts.pinentry("chatty", {"S PIN_REPEATED", "# a comment", "D 5678", "OK"}));
        CHECK(pinentry.getPin(prompt()).view() == "5678");
    }

    TEST_CASE("cancel, timeout and an empty answer are told apart")
    {
        Scripts scripts;
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("cancel", {"ERR 83886179 Operation cancelled <Pinentry>"})).getPin(prompt()); }) ==
              ErrorCode::PinCancelled);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("timeout", {"ERR 83886142 Timeout <Pinentry>"})).getPin(prompt()); }) ==
              ErrorCode::PinEntryTimeout);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("empty", {"OK"})).getPin(prompt()); }) == ErrorCode::PinCancelled);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("other", {"ERR 83886337 Broken <Pinentry>"})).getPin(prompt()); }) ==
              ErrorCode::PinEntryUnavailable);
    }

    TEST_CASE("a new PIN asked twice by inkand (the pinentry cannot repeat) must match: else PIN_FORMAT")
    {
        Scripts scripts;
        const auto differing = scripts.raw("differing", "echo 'OK Pleased to meet you'\n"
                                                        "n=0\n"
                                                        "while IFS= read -r line; do\n"
                                                        "  case \"$line\" in\n"
                                                        "    SETREPEAT*) echo 'ERR 536871187 Unknown command' ;;\n"
                                                        "    GETPIN*) n=$((n+1)); echo \"D 246$n\"; echo OK ;;\n"
                                                        "    BYE*) echo 'OK closing connection'; exit 0 ;;\n"
                                                        "    *) echo OK ;;\n"
                                                        "  esac\n"
                                                        "done\n");
        PinPrompt twice = prompt();
        twice.repeatPrompt = "New PIN again:";
        CHECK(refusal([&] { pinentryAt(differing).getPin(twice); }) == ErrorCode::PinFormat);
    }

    TEST_CASE("a program that is missing, mute or not a pinentry is PIN_ENTRY_UNAVAILABLE")
    {
        Scripts scripts;
        CHECK_FALSE(pinentryAt(scripts.dir / "missing").available());
        CHECK(refusal([&] { pinentryAt(scripts.dir / "missing").getPin(prompt()); }) == ErrorCode::PinEntryUnavailable);
        CHECK(refusal([&] { pinentryAt(scripts.raw("exits", "exit 0\n")).getPin(prompt()); }) == ErrorCode::PinEntryUnavailable);
        CHECK(refusal([&] { pinentryAt(scripts.raw("chatter", "echo 'hello there'\nsleep 5\n")).getPin(prompt()); }) ==
              ErrorCode::PinEntryUnavailable);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("inquire", {"INQUIRE QUALITY"})).getPin(prompt()); }) ==
              ErrorCode::PinEntryUnavailable);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("twice", {"D 1", "D 2", "OK"})).getPin(prompt()); }) ==
              ErrorCode::PinEntryUnavailable);
    }

    TEST_CASE("a dialog nobody needs any more is closed at once")
    {
        Scripts scripts;
        const Pinentry pinentry = pinentryAt(scripts.pinentry("hangs", {}));
        const auto started = std::chrono::steady_clock::now();
        const Abandoned abandoned = [&] { return std::chrono::steady_clock::now() - started > std::chrono::milliseconds(300); };
        CHECK(refusal([&] { pinentry.getPin(prompt(), abandoned); }) == ErrorCode::PinCancelled);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    }

    TEST_CASE("a confirmation is yes, no, or dismissed")
    {
        Scripts scripts;
        ConfirmPrompt confirm{"inkan", "allow https://a.example?", "Allow", "Deny", "Not now"};
        CHECK(pinentryAt(scripts.pinentry("yes", {"OK"})).confirm(confirm) == ConfirmAnswer::Yes);
        CHECK(pinentryAt(scripts.pinentry("no", {"ERR 83886194 Not confirmed <Pinentry>"})).confirm(confirm) == ConfirmAnswer::No);
        CHECK(pinentryAt(scripts.pinentry("dismissed", {"ERR 83886179 Operation cancelled <Pinentry>"})).confirm(confirm) ==
              ConfirmAnswer::Dismissed);
        CHECK(scripts.commands().find("SETNOTOK Deny\n") != std::string::npos);
        CHECK(refusal([&] { pinentryAt(scripts.pinentry("late", {"ERR 83886142 Timeout <Pinentry>"})).confirm(confirm); }) ==
              ErrorCode::PinEntryTimeout);
    }
}

namespace {

/// Just enough of a card for a PIN verification through the card access.
class DialogCardFake final : public CardAgent {
public:
    std::promise<std::string> pinSeen;
    /// The counter the operation reads in its own transaction (another
    /// application may have spent tries while the dialog was open).
    PinStatus counterWhenSpending{7, 10, false};
    bool checked = false;

    void status(Completion<AgentStatus> done) override { done(AgentStatus{}); }
    void cards(Completion<std::vector<CardSummary>> done) override { done(std::vector<CardSummary>{}); }
    void card(const std::string& cardId, Completion<CardSummary> done) override
    {
        CardSummary card = testing::referenceCardSummary(cardId);
        card.label = "test card";
        done(card);
    }
    void certificate(const std::string&, const std::string&, Completion<CertificateSummary> done) override
    {
        done(std::make_exception_ptr(Error(ErrorCode::NotFound, "none")));
    }
    void pinStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(PinStatus{7, 10, false}); }
    void unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done) override { done(PinStatus{10, 10, false}); }
    void verifyPin(const std::string&, const std::string&, PinInput pin, PinCheck check, Completion<PinStatus> done) override
    {
        if (check) {
            checked = true;
            try {
                check(counterWhenSpending);
            } catch (...) {
                return done(std::current_exception());
            }
        }
        pinSeen.set_value(std::string(pin.value().view()));
        done(PinStatus{10, 10, false});
    }
    void changePin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(PinStatus{}); }
    void unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck, Completion<PinStatus> done) override { done(PinStatus{}); }
    void sign(const std::string&, SignRequest, PinCheck, Completion<SignResult> done) override { done(SignResult{}); }
    void endPinVerification(const std::string&, Completion<std::monostate> done) override { done(std::monostate{}); }
    void shutdown() override {}
};

// A page of an origin whose PIN source is the pinentry dialog, a pinentry
// that answers "1234", and the fake card behind CardAccess.
struct PinentryOrigin {
    static constexpr const char* kOrigin = "https://portal.example.jp";

    Scripts scripts;
    std::shared_ptr<DialogRunner> dialogs;
    DialogCardFake agent;
    std::unique_ptr<CardAccess> access;

    PinentryOrigin()
    {
        const fs::path program = scripts.pinentry("answers", {"D 1234", "OK"});
        PolicySettings settings;
        settings.allowedOrigins.push_back(
            OriginGrant{kOrigin, OperationSet::all(), std::nullopt, PinSource::Pinentry, false});
        dialogs = std::make_shared<DialogRunner>(Pinentry(Pinentry::Options{program, std::chrono::seconds(30)}));
        CardAccessOptions options;
        options.policy = std::make_shared<Policy>(std::move(settings), true);
        options.dialogs = dialogs;
        access = std::make_unique<CardAccess>(agent, std::move(options));
    }
    ~PinentryOrigin() { dialogs->stop(); }

    /// The page's verify, without a PIN in the request; its outcome.
    Outcome<PinStatus> verify()
    {
        std::promise<Outcome<PinStatus>> answered;
        access->verifyPin(Principal::webOrigin(kOrigin), "c1", std::nullopt, {},
                          [&](Outcome<PinStatus> outcome) { answered.set_value(std::move(outcome)); });
        auto future = answered.get_future();
        REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        return future.get();
    }
};

}  // namespace

TEST_SUITE("security pinentry in the card access")
{
    TEST_CASE("an origin with the pinentry source gets its PIN from the dialog, which shows the tries left")
    {
        PinentryOrigin page;
        CHECK(std::holds_alternative<PinStatus>(page.verify()));
        CHECK(page.agent.checked);
        CHECK(page.agent.pinSeen.get_future().get() == "1234");
        CHECK(page.scripts.commands().find("PIN tries left: 7 of 10") != std::string::npos);
        CHECK(page.scripts.commands().find("https://portal.example.jp asks to verify the PIN of") != std::string::npos);
    }

    TEST_CASE("the guard decides again in the spending transaction: tries spent while the dialog was open count")
    {
        PinentryOrigin page;
        page.agent.counterWhenSpending = PinStatus{3, 10, false};  // the dialog said 7
        const auto outcome = page.verify();
        REQUIRE(std::holds_alternative<std::exception_ptr>(outcome));
        try {
            std::rethrow_exception(std::get<std::exception_ptr>(outcome));
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::PinGuard);
            CHECK(e.triesLeft == 3);
        }
        CHECK(page.scripts.commands().find("PIN tries left: 7 of 10") != std::string::npos);
        CHECK(page.agent.pinSeen.get_future().wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    }
}
