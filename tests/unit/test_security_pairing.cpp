// Pairing: pending requests, approval by code, expiry, rate limits, the
// pairings file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <sys/stat.h>

#include "daemon/error.hpp"
#include "daemon/security/pairing_store.hpp"

using namespace inkan;
using namespace inkan::security;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kOrigin = "https://portal.example.jp";

/// A clock the test moves by hand.
struct ManualClock {
    Pairing::Clock::time_point now = Pairing::Clock::from_time_t(1'800'000'000);
    std::function<Pairing::Clock::time_point()> function()
    {
        return [this] { return now; };
    }
};

/// A fresh directory under the system's temporary one, removed afterwards.
struct TemporaryDirectory {
    fs::path path;
    TemporaryDirectory()
    {
        std::string pattern = (fs::temp_directory_path() / "inkan-pairing-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ~TemporaryDirectory() { fs::remove_all(path); }
};

PairingStoreOptions optionsWith(ManualClock& clock, fs::path file = {})
{
    PairingStoreOptions options;
    options.file = std::move(file);
    options.now = clock.function();
    return options;
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

std::string wrongCode(const Pairing& pairing) { return pairing.code == "000000" ? "111111" : "000000"; }

}  // namespace

TEST_SUITE("security pairing")
{
    TEST_CASE("a request is pending with a random id and a six-digit code, and grants nothing yet")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing pairing = store.request(std::string(kOrigin));
        CHECK(pairing.id.size() == 32);
        CHECK(pairing.id.find_first_not_of("0123456789abcdef") == std::string::npos);
        CHECK(pairing.code.size() == 6);
        CHECK(pairing.code.find_first_not_of("0123456789") == std::string::npos);
        CHECK(pairing.status == Pairing::Status::Pending);
        CHECK(pairing.expiresAt - pairing.createdAt == std::chrono::minutes(5));
        CHECK_FALSE(store.isPaired(kOrigin));
        CHECK(displayCode("123456") == "123 456");
        CHECK(formatTime(pairing.createdAt) == "2027-01-15T08:00:00Z");
    }

    TEST_CASE("ids and codes do not repeat")
    {
        ManualClock clock;
        PairingStoreOptions options = optionsWith(clock);
        options.maxPendingPerOrigin = 100;
        options.maxPending = 100;
        PairingStore store(std::move(options));
        std::set<std::string> ids;
        std::set<std::string> codes;
        for (int i = 0; i < 50; ++i) {
            const Pairing pairing = store.request(std::string(kOrigin));
            ids.insert(pairing.id);
            codes.insert(pairing.code);
        }
        CHECK(ids.size() == 50);
        CHECK(codes.size() > 45);  // six random digits: a collision or two is possible, many are not
    }

    TEST_CASE("the right code approves with the operations and cards given; the code may be typed with a space")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing pairing = store.request(std::string(kOrigin));
        const Pairing approved = store.approve(pairing.id, displayCode(pairing.code), OperationSet{Operation::Read},
                                               std::vector<std::string>{"c1"});
        CHECK(approved.status == Pairing::Status::Approved);
        REQUIRE(store.grantFor(kOrigin).has_value());
        CHECK(store.grantFor(kOrigin)->operations == OperationSet{Operation::Read});
        CHECK(store.grantFor(kOrigin)->cards == std::vector<std::string>{"c1"});
        CHECK(store.find(pairing.id)->status == Pairing::Status::Approved);
        CHECK(refusal([&] { store.approve(pairing.id, pairing.code, OperationSet::all(), std::nullopt); }) ==
              ErrorCode::PairingNotPending);
    }

    TEST_CASE("wrong codes count down, and the last one denies the pairing and makes the origin wait")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing pairing = store.request(std::string(kOrigin));
        for (int left : {2, 1}) {
            try {
                store.approve(pairing.id, wrongCode(pairing), OperationSet::all(), std::nullopt);
                FAIL("approved with a wrong code");
            } catch (const Error& e) {
                CHECK(e.code() == ErrorCode::PairingCodeIncorrect);
                CHECK(e.triesLeft == left);
            }
        }
        CHECK(refusal([&] { store.approve(pairing.id, "12 34 5", OperationSet::all(), std::nullopt); }) ==
              ErrorCode::PairingCodeIncorrect);
        CHECK(store.find(pairing.id)->status == Pairing::Status::Denied);
        CHECK(refusal([&] { store.approve(pairing.id, pairing.code, OperationSet::all(), std::nullopt); }) ==
              ErrorCode::PairingNotPending);
        CHECK_FALSE(store.isPaired(kOrigin));
        try {
            store.request(std::string(kOrigin));
            FAIL("a denied origin asked again at once");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::PairingRateLimited);
            CHECK(e.retryAfterSeconds == 300);
        }
        clock.now += std::chrono::minutes(5);
        CHECK(refusal([&] { store.request(std::string(kOrigin)); }) == std::nullopt);
    }

    TEST_CASE("codes that are not digits are wrong codes, not errors of another kind")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing pairing = store.request(std::string(kOrigin));
        for (const char* typed : {"", "abcdef", "1234567", "12345", "１２３４５６"}) {
            CAPTURE(typed);
            PairingStore fresh(optionsWith(clock));
            const Pairing other = fresh.request(std::string(kOrigin));
            CHECK(refusal([&] { fresh.approve(other.id, typed, OperationSet::all(), std::nullopt); }) ==
                  ErrorCode::PairingCodeIncorrect);
        }
        CHECK(refusal([&] { store.approve("0123", pairing.code, OperationSet::all(), std::nullopt); }) == ErrorCode::NotFound);
    }

    TEST_CASE("a pending pairing expires after five minutes and is forgotten later")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing pairing = store.request(std::string(kOrigin));
        clock.now += std::chrono::minutes(5);
        CHECK(store.find(pairing.id)->status == Pairing::Status::Expired);
        CHECK(refusal([&] { store.approve(pairing.id, pairing.code, OperationSet::all(), std::nullopt); }) ==
              ErrorCode::PairingNotPending);
        CHECK(store.pending().empty());
        clock.now += std::chrono::minutes(6);
        CHECK_FALSE(store.find(pairing.id).has_value());
    }

    TEST_CASE("an origin holds at most three pending pairings, everyone together a bounded number")
    {
        ManualClock clock;
        PairingStoreOptions options = optionsWith(clock);
        options.maxPending = 5;
        PairingStore store(std::move(options));
        for (int i = 0; i < 3; ++i) {
            store.request(std::string(kOrigin));
            clock.now += std::chrono::seconds(10);
        }
        try {
            store.request(std::string(kOrigin));
            FAIL("a fourth pending pairing");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::PairingRateLimited);
            CHECK(e.retryAfterSeconds == 270);  // when the first of them expires
        }
        store.request("https://a.example");
        store.request("https://b.example");
        CHECK(refusal([&] { store.request("https://c.example"); }) == ErrorCode::PairingRateLimited);
    }

    TEST_CASE("deny needs no code; revoke forgets a paired origin and denies its pending requests")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        const Pairing first = store.request(std::string(kOrigin));
        CHECK(store.deny(first.id).status == Pairing::Status::Denied);
        CHECK(refusal([&] { store.deny(first.id); }) == ErrorCode::PairingNotPending);

        const Pairing other = store.request("https://other.example");
        store.approveConfirmed(other.id);
        CHECK(store.grantFor("https://other.example")->operations == defaultOriginOperations());
        const Pairing again = store.request("https://other.example");
        CHECK(store.revoke("https://other.example"));
        CHECK_FALSE(store.isPaired("https://other.example"));
        CHECK(store.find(again.id)->status == Pairing::Status::Denied);
        CHECK_FALSE(store.revoke("https://other.example"));
    }

    TEST_CASE("the callback learns of every new request, outside the store's lock")
    {
        ManualClock clock;
        PairingStore store(optionsWith(clock));
        std::vector<std::string> seen;
        store.onRequested([&](const Pairing& pairing) {
            seen.push_back(pairing.origin);
            CHECK(store.find(pairing.id).has_value());  // would deadlock under the lock
        });
        store.request(std::string(kOrigin));
        CHECK(seen == std::vector<std::string>{std::string(kOrigin)});
    }

    TEST_CASE("approved origins persist in a 0600 file without codes, and come back after a restart")
    {
        TemporaryDirectory dir;
        const fs::path file = dir.path / "pairings.json";
        ManualClock clock;
        std::string code;
        {
            PairingStore store(optionsWith(clock, file));
            const Pairing pairing = store.request(std::string(kOrigin));
            code = pairing.code;
            store.approve(pairing.id, pairing.code, OperationSet{Operation::Read, Operation::Sign},
                          std::vector<std::string>{"c1"});
        }
        struct stat info {};
        REQUIRE(::stat(file.c_str(), &info) == 0);
        CHECK((info.st_mode & 07777) == 0600);
        std::ifstream in(file);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        CHECK(text.find(kOrigin) != std::string::npos);
        CHECK(text.find(code) == std::string::npos);

        PairingStore restarted(optionsWith(clock, file));
        REQUIRE(restarted.isPaired(kOrigin));
        CHECK(restarted.grantFor(kOrigin)->cards == std::vector<std::string>{"c1"});
        CHECK(restarted.paired().front().approvedAt == clock.now);
        CHECK(restarted.revoke(kOrigin));
        PairingStore afterRevoke(optionsWith(clock, file));
        CHECK_FALSE(afterRevoke.isPaired(kOrigin));
    }

    TEST_CASE("a damaged pairings file pairs nothing it cannot read, and says so")
    {
        TemporaryDirectory dir;
        const fs::path file = dir.path / "pairings.json";
        std::ofstream(file) << R"({"version":1,"origins":[
            {"origin":"https://good.example","operations":["read","sign"]},
            {"origin":"https://Bad.example","operations":["read"]},
            {"origin":"https://noops.example","operations":[]},
            {"origin":"https://odd.example","operations":["fly"]},
            {"operations":["read"]}, 7]})";
        ManualClock clock;
        std::vector<std::string> warnings;
        PairingStoreOptions options = optionsWith(clock, file);
        options.warn = [&](const std::string& line) { warnings.push_back(line); };
        PairingStore store(std::move(options));
        CHECK(store.isPaired("https://good.example"));
        CHECK(store.paired().size() == 1);
        CHECK(warnings.size() == 5);

        std::ofstream(file) << "not json";
        warnings.clear();
        PairingStoreOptions broken = optionsWith(clock, file);
        broken.warn = [&](const std::string& line) { warnings.push_back(line); };
        PairingStore empty(std::move(broken));
        CHECK(empty.paired().empty());
        CHECK(warnings.size() == 1);
    }
}
