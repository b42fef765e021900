// PKCS#11 tokens as cards (daemon/pkcs11/pkcs11_tokens.*) over a scripted
// module: what is listed, the PIN states the token flags tell and how the PIN
// guard treats them, the mechanism chosen, return values mapped to problems.
// The real modules (SoftHSM2, OpenSC, a crashing one) are in
// tests/integration/test_pkcs11.py.
#include <future>
#include <memory>

#include <doctest/doctest.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "daemon/card/digest_info.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/pkcs11/pkcs11_tokens.hpp"
#include "tests/unit/software_card.hpp"
#include "daemon/security/pin_guard.hpp"

using namespace inkan;
using namespace inkan::pkcs11;

namespace {

/// A module whose answers the test sets; it records what it was asked.
struct ScriptedModule final : Module {
    std::string name = "scripted.so";
    SlotList list;
    TokenObjects contents;
    PinAnswer loginAnswer;
    SignAnswer signAnswer;
    int logins = 0;
    int signs = 0;
    std::uint64_t signedMechanism = 0;
    Bytes signedData;

    const std::string& path() const override { return name; }
    SlotList slots() override { return list; }
    TokenObjects objects(std::uint64_t) override { return contents; }
    PinAnswer login(std::uint64_t, const Secret&) override
    {
        ++logins;
        return loginAnswer;
    }
    SignAnswer sign(std::uint64_t, const Secret&, const Bytes&, std::uint64_t mechanism, const Bytes& data) override
    {
        ++signs;
        signedMechanism = mechanism;
        signedData = data;
        return signAnswer;
    }
    PinAnswer setPin(std::uint64_t, const Secret&, const Secret&) override { return loginAnswer; }
};

constexpr std::uint64_t kFlags = (1UL << 10) /* CKF_TOKEN_INITIALIZED */ | kCkfLoginRequired | kCkfUserPinInitialized;

struct Fixture {
    ossl::EvpPkeyPtr key{EVP_RSA_gen(2048)};
    ScriptedModule* module = nullptr;
    std::unique_ptr<Pkcs11Tokens> tokens;

    explicit Fixture(std::uint64_t flags = kFlags, bool ec = false)
    {
        if (ec) key.reset(EVP_EC_gen("P-256"));
        auto scripted = std::make_unique<ScriptedModule>();
        module = scripted.get();
        scripted->list.tokens.push_back(SlotToken{3, "Slot Three", "my token", "vendor", "model", "SERIAL1", flags, 4, 16});
        scripted->contents.mechanisms = {kCkmRsaPkcs, kCkmEcdsa};
        scripted->contents.certificates.push_back({Bytes{0x45}, "mine", testing::selfSignedCertificate(key.get(), "代表 太郎")});
        ossl::EvpPkeyPtr caKey(EVP_RSA_gen(2048));
        scripted->contents.certificates.push_back({Bytes{0x46}, "ca", testing::selfSignedCertificate(caKey.get(), "Some CA", true)});
        TokensOptions options;
        options.pollInterval = std::chrono::milliseconds(0);  // the test calls refresh()
        tokens = std::make_unique<Pkcs11Tokens>(std::move(scripted), std::move(options));
    }

    std::vector<CardSummary> cards()
    {
        std::vector<CardSummary> list;
        tokens->cards([&](Outcome<std::vector<CardSummary>> outcome) { list = std::get<0>(std::move(outcome)); });
        return list;
    }

    template <class T, class Call>
    T wait(Call call)
    {
        std::promise<Outcome<T>> promise;
        call([&](Outcome<T> outcome) { promise.set_value(std::move(outcome)); });
        auto outcome = promise.get_future().get();
        if (outcome.index() == 1) std::rethrow_exception(std::get<1>(outcome));
        return std::get<0>(std::move(outcome));
    }

    SignResult sign(const char* pin = "1234", PinCheck check = {})
    {
        SignRequest request;
        request.digest = Bytes(32, 0xAB);
        request.pin.emplace(Secret(pin));
        const auto id = cards().at(0).id;
        return wait<SignResult>([&](Completion<SignResult> done) { tokens->sign(id, std::move(request), check, std::move(done)); });
    }
};

ErrorCode codeOf(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("no error");
    return ErrorCode::Internal;
}

}  // namespace

TEST_SUITE("PKCS#11 tokens")
{
    TEST_CASE("a token with a certificate and (hidden) key is a card: profile pkcs11, the slot as reader, one PIN")
    {
        Fixture f;
        const auto cards = f.cards();
        REQUIRE(cards.size() == 1);
        const auto& card = cards.front();
        CHECK(card.profile == "pkcs11");
        CHECK(card.reader == "Slot Three");
        CHECK(card.label == "代表 太郎");
        CHECK(card.signingCertificateId == "sign");
        REQUIRE(card.certificates.size() == 2);
        CHECK(card.certificates[0].keyPin == std::optional<std::string>("user"));
        CHECK(card.certificates[1].id == "ca-1");
        CHECK_FALSE(card.certificates[1].keyPin.has_value());
        CHECK(card.pins.at(0).id == "user");
        CHECK(card.pins.at(0).format == PinFormat{4, 16, PinFormat::Alphabet::Any});
        CHECK(f.tokens->has(card.id));
    }

    TEST_CASE("the id is stable: the same token read again (re-inserted) has the same id; another serial another")
    {
        Fixture f;
        const auto id = f.cards().at(0).id;
        const auto token = f.module->list.tokens;
        f.module->list.tokens.clear();
        f.tokens->refresh();
        CHECK(f.cards().empty());
        CHECK_FALSE(f.tokens->has(id));
        f.module->list.tokens = token;
        f.module->list.tokens[0].slot = 9;  // another slot, the same token
        f.tokens->refresh();
        CHECK(f.cards().at(0).id == id);
        f.module->list.tokens[0].serial = "SERIAL2";
        f.tokens->refresh();
        CHECK(f.cards().at(0).id != id);
    }

    TEST_CASE("a token without a certificate whose key it holds is not listed")
    {
        Fixture f;
        f.module->list.tokens[0].flags = (1UL << 10);  // no login required, and no key shown
        f.module->list.tokens[0].serial = "OTHER";
        f.tokens->refresh();
        CHECK(f.cards().empty());
    }

    TEST_CASE("PIN states from the flags: nothing told is unknown, never a guess")
    {
        const auto none = pinStatusFromFlags(kFlags);
        CHECK_FALSE(none.triesLeftKnown);
        CHECK_FALSE(none.maxTriesKnown);
        CHECK_FALSE(none.blocked);
        CHECK_FALSE(none.triesSpent);
        const auto low = pinStatusFromFlags(kFlags | kCkfUserPinCountLow);
        CHECK_FALSE(low.triesLeftKnown);
        CHECK(low.triesSpent);
        const auto last = pinStatusFromFlags(kFlags | kCkfUserPinCountLow | kCkfUserPinFinalTry);
        CHECK(last.triesLeftKnown);
        CHECK(last.triesLeft == 1);
        CHECK_FALSE(last.maxTriesKnown);
        const auto locked = pinStatusFromFlags(kFlags | kCkfUserPinLocked);
        CHECK(locked.blocked);
        CHECK(locked.triesLeft == 0);
    }

    TEST_CASE("the PIN guard: unknown tries pass, the final try only when acknowledged, a locked PIN never")
    {
        using security::checkPinTries;
        using security::PinGuardRequest;
        CHECK_NOTHROW(checkPinTries(pinStatusFromFlags(kFlags), PinGuardRequest{}));
        CHECK_NOTHROW(checkPinTries(pinStatusFromFlags(kFlags | kCkfUserPinCountLow), PinGuardRequest{}));
        const auto last = pinStatusFromFlags(kFlags | kCkfUserPinFinalTry);
        CHECK(codeOf([&] { checkPinTries(last, PinGuardRequest{std::nullopt, false, true, false}); }) == ErrorCode::PinGuard);
        CHECK(codeOf([&] { checkPinTries(last, PinGuardRequest{std::nullopt, true, false, false}); }) == ErrorCode::PinGuard);
        CHECK_NOTHROW(checkPinTries(last, PinGuardRequest{std::nullopt, true, true, false}));
        CHECK(codeOf([&] { checkPinTries(pinStatusFromFlags(kCkfUserPinLocked), PinGuardRequest{std::nullopt, true, true, false}); })
              == ErrorCode::PinBlocked);
    }

    TEST_CASE("a sign on the final try goes through the guard before the module sees the PIN")
    {
        Fixture f(kFlags | kCkfUserPinFinalTry);
        const PinCheck guard = [](const PinStatus& status) {
            security::checkPinTries(status, security::PinGuardRequest{std::nullopt, false, true, false});
        };
        CHECK(codeOf([&] { f.sign("1234", guard); }) == ErrorCode::PinGuard);
        CHECK(f.module->signs == 0);
    }

    TEST_CASE("a locked token: PIN_BLOCKED, nothing sent")
    {
        Fixture f(kFlags | kCkfUserPinLocked);
        CHECK(codeOf([&] { f.sign(); }) == ErrorCode::PinBlocked);
        CHECK(f.module->signs == 0);
        CHECK(f.cards().at(0).pins.at(0).status.blocked);
    }

    TEST_CASE("RSA signs CKM_RSA_PKCS over the DigestInfo")
    {
        Fixture f;
        f.module->signAnswer.signature = Bytes(256, 0x11);
        const auto result = f.sign();
        CHECK(f.module->signedMechanism == kCkmRsaPkcs);
        CHECK(f.module->signedData == card::digestInfo(DigestAlgorithm::Sha256, Bytes(32, 0xAB)));
        CHECK(result.signatureAlgorithm == "RSASSA-PKCS1-v1_5-SHA-256");
        CHECK(result.certificateId == "sign");
        CHECK(result.certificate == f.cards().at(0).certificates.at(0).der);
    }

    TEST_CASE("without CKM_RSA_PKCS: raw RSA over the padded block; without either: UNSUPPORTED_ALGORITHM")
    {
        Fixture f;
        f.module->contents.mechanisms = {kCkmRsaX509};
        f.module->list.tokens[0].serial = "X509ONLY";
        f.tokens->refresh();
        f.module->signAnswer.signature = Bytes(256, 0x11);
        (void)f.sign();
        CHECK(f.module->signedMechanism == kCkmRsaX509);
        REQUIRE(f.module->signedData.size() == 256);
        CHECK(f.module->signedData[0] == 0x00);
        CHECK(f.module->signedData[1] == 0x01);
        const auto info = card::digestInfo(DigestAlgorithm::Sha256, Bytes(32, 0xAB));
        CHECK(Bytes(f.module->signedData.end() - static_cast<long>(info.size()), f.module->signedData.end()) == info);

        f.module->contents.mechanisms = {0x40 /* CKM_SHA256_RSA_PKCS */};
        f.module->list.tokens[0].serial = "HASHONLY";
        f.tokens->refresh();
        CHECK(codeOf([&] { f.sign(); }) == ErrorCode::UnsupportedAlgorithm);
    }

    TEST_CASE("ECDSA: CKM_ECDSA over the digest, r||s answered as DER that OpenSSL verifies")
    {
        Fixture f(kFlags, true);
        // What a token answers: r||s of a real signature.
        const Bytes digest(32, 0xAB);
        ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> context(EVP_PKEY_CTX_new(f.key.get(), nullptr));
        REQUIRE(EVP_PKEY_sign_init(context.get()) == 1);
        std::size_t length = 0;
        REQUIRE(EVP_PKEY_sign(context.get(), nullptr, &length, digest.data(), digest.size()) == 1);
        Bytes der(length);
        REQUIRE(EVP_PKEY_sign(context.get(), der.data(), &length, digest.data(), digest.size()) == 1);
        const unsigned char* p = der.data();
        ossl::Ptr<ECDSA_SIG, ECDSA_SIG_free> signature(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length)));
        Bytes raw(64);
        BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), raw.data(), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), raw.data() + 32, 32);
        f.module->signAnswer.signature = raw;

        const auto result = f.sign();
        CHECK(f.module->signedMechanism == kCkmEcdsa);
        CHECK(f.module->signedData == digest);
        CHECK(result.signatureAlgorithm == "ECDSA-SHA-256");
        ossl::Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> verify(EVP_PKEY_CTX_new(f.key.get(), nullptr));
        REQUIRE(EVP_PKEY_verify_init(verify.get()) == 1);
        CHECK(EVP_PKEY_verify(verify.get(), result.signature.data(), result.signature.size(), digest.data(), digest.size()) == 1);
    }

    TEST_CASE("return values: wrong PIN, wrong PIN on the final try, locked, token gone")
    {
        Fixture f;
        f.module->signAnswer.rv = kCkrPinIncorrect;
        f.module->signAnswer.flags = kFlags | kCkfUserPinCountLow;
        try {
            f.sign("9999");
            FAIL("signed");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::PinIncorrect);
            CHECK_FALSE(e.triesLeft.has_value());  // the token did not tell
        }
        CHECK(f.cards().at(0).pins.at(0).status.triesSpent);

        f.module->signAnswer.flags = kFlags | kCkfUserPinFinalTry;
        try {
            f.sign("9999");
            FAIL("signed");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::PinIncorrect);
            CHECK(e.triesLeft == std::optional<int>(1));
        }

        f.module->signAnswer.rv = kCkrPinLocked;
        CHECK(codeOf([&] { f.sign("9999"); }) == ErrorCode::PinBlocked);
        f.module->signAnswer.rv = kCkrPinIncorrect;
        f.module->signAnswer.flags = kFlags | kCkfUserPinLocked;
        CHECK(codeOf([&] { f.sign("9999"); }) == ErrorCode::PinBlocked);

        f.module->signAnswer = SignAnswer{};
        f.module->signAnswer.rv = kCkrDeviceRemoved;
        CHECK(codeOf([&] { f.sign(); }) == ErrorCode::CardRemoved);
    }

    TEST_CASE("a PIN the token's lengths rule out, a missing PIN, a PIN pad: refused before the module")
    {
        Fixture f;
        CHECK(codeOf([&] { f.sign("12"); }) == ErrorCode::PinFormat);
        const auto id = f.cards().at(0).id;
        const auto attempt = [&](std::optional<PinInput> pin) {
            SignRequest request;
            request.digest = Bytes(32, 1);
            request.pin = std::move(pin);
            return codeOf([&] {
                f.wait<SignResult>([&](Completion<SignResult> done) { f.tokens->sign(id, std::move(request), {}, std::move(done)); });
            });
        };
        CHECK(attempt(std::nullopt) == ErrorCode::PinRequired);
        CHECK(attempt(PinInput::onPinpad()) == ErrorCode::UnsupportedOperation);
        CHECK(f.module->signs == 0);
    }

    TEST_CASE("an ECDSA answer that is not r||s is a card error")
    {
        CHECK(codeOf([] { (void)ecdsaSignatureToDer(Bytes(63, 1)); }) == ErrorCode::CardError);
        CHECK(codeOf([] { (void)ecdsaSignatureToDer(Bytes{}); }) == ErrorCode::CardError);
    }
}
