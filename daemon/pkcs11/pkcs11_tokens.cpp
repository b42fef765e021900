// PKCS#11 tokens as cards (pkcs11_tokens.hpp).
#include "daemon/pkcs11/pkcs11_tokens.hpp"

#include <algorithm>
#include <exception>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "daemon/card/digest_info.hpp"
#include "daemon/card/iso7816_files.hpp"
#include "daemon/cert/openssl_ptr.hpp"
#include "daemon/error.hpp"
#include "daemon/hex.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/service/completion_task.hpp"

namespace inkan::pkcs11 {

namespace {

constexpr std::string_view kCardIdNamespace = "pkcs11:";
constexpr std::string_view kSigningCertificateId = "sign";
constexpr std::string_view kPinLabel = "the token's user PIN";
// PKCS#11 tokens report PIN lengths of their own; these bound what inkand passes on.
constexpr std::size_t kMinPinLength = 1;
constexpr std::size_t kMaxPinLength = 256;
// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF..FF 00 DigestInfo, at least 8 bytes of FF.
constexpr std::size_t kPkcs1MinPadding = 8;
constexpr std::size_t kPkcs1Overhead = 3;

PinFormat pinFormat(const SlotToken& slot)
{
    const auto low = std::clamp<std::size_t>(slot.minPinLength, kMinPinLength, kMaxPinLength);
    const auto high = std::clamp<std::size_t>(slot.maxPinLength, low, kMaxPinLength);
    return PinFormat{low, high, PinFormat::Alphabet::Any};
}

bool removedRv(std::uint64_t rv)
{
    return rv == kCkrTokenNotPresent || rv == kCkrDeviceRemoved || rv == kCkrSlotIdInvalid
           || rv == kCkrSessionHandleInvalid || rv == kCkrTokenNotRecognized;
}

Error removed() { return Error(ErrorCode::CardRemoved, "the token was taken out during the operation"); }

bool hasMechanism(const std::vector<std::uint64_t>& mechanisms, std::uint64_t mechanism)
{
    return std::find(mechanisms.begin(), mechanisms.end(), mechanism) != mechanisms.end();
}

/// EMSA-PKCS1-v1_5 of `digestInfo` for a modulus of `size` bytes (raw RSA, CKM_RSA_X_509).
Bytes pkcs1Block(const Bytes& digestInfo, std::size_t size)
{
    if (size < digestInfo.size() + kPkcs1Overhead + kPkcs1MinPadding) {
        throw Error(ErrorCode::UnsupportedAlgorithm, "the token's RSA key is too short for this digest");
    }
    Bytes block(size, 0xFF);
    block[0] = 0x00;
    block[1] = 0x01;
    block[size - digestInfo.size() - 1] = 0x00;
    std::copy(digestInfo.begin(), digestInfo.end(), block.end() - static_cast<std::ptrdiff_t>(digestInfo.size()));
    return block;
}

}  // namespace

PinStatus pinStatusFromFlags(std::uint64_t flags)
{
    PinStatus status;
    status.maxTriesKnown = false;
    status.triesLeftKnown = false;
    if ((flags & kCkfUserPinLocked) != 0) {
        status.blocked = true;
        status.triesLeft = 0;
        status.triesLeftKnown = true;
    } else if ((flags & kCkfUserPinFinalTry) != 0) {
        status.triesLeft = 1;
        status.triesLeftKnown = true;
    }
    status.triesSpent = (flags & kCkfUserPinCountLow) != 0;
    return status;
}

Bytes ecdsaSignatureToDer(const Bytes& raw)
{
    if (raw.empty() || raw.size() % 2 != 0) throw Error(ErrorCode::CardError, "the token answered a malformed ECDSA signature");
    const auto half = static_cast<int>(raw.size() / 2);
    ossl::Ptr<ECDSA_SIG, ECDSA_SIG_free> signature(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
    if (!signature || r == nullptr || s == nullptr || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw Error(ErrorCode::Internal, "OpenSSL could not encode the signature");
    }
    const int length = i2d_ECDSA_SIG(signature.get(), nullptr);
    Bytes der(static_cast<std::size_t>(std::max(length, 0)));
    unsigned char* out = der.data();
    if (length <= 0 || i2d_ECDSA_SIG(signature.get(), &out) != length) throw Error(ErrorCode::Internal, "OpenSSL could not encode the signature");
    return der;
}

Pkcs11Tokens::Pkcs11Tokens(std::unique_ptr<Module> module, TokensOptions options)
    : module_(std::move(module)), options_(std::move(options)), events_(options_.events, 0)
{
    try {
        refresh();
    } catch (const std::exception& e) {
        // The module loaded; its tokens are read again at the next poll.
        if (options_.log) options_.log(std::string("PKCS#11 module ") + module_->path() + ": " + e.what());
    }
    if (options_.pollInterval.count() > 0) poller_ = std::thread([this] { poll(); });
}

Pkcs11Tokens::~Pkcs11Tokens() { shutdown(); }

void Pkcs11Tokens::poll()
{
    std::unique_lock lock(pollMutex_);
    while (!pollWake_.wait_for(lock, options_.pollInterval, [this] { return stopping_; })) {
        lock.unlock();
        try {
            refresh();
        } catch (const std::exception& e) {
            if (options_.log) options_.log(std::string("PKCS#11 module ") + module_->path() + ": " + e.what());
        }
        lock.lock();
    }
}

Pkcs11Tokens::Token Pkcs11Tokens::read(const SlotToken& slot)
{
    Token token;
    token.slot = slot;
    const auto objects = module_->objects(slot.slot);
    if (objects.rv != kCkrOk) return token;
    token.mechanisms = objects.mechanisms;

    // The certificates whose key the token shows; when it shows none (keys
    // are private objects on most tokens, visible after a login only), those
    // with a CKA_ID that are no CA's (or, when all are, a self-signed one's):
    // the key is looked up by that id when signing.
    std::vector<const TokenObjects::Certificate*> keyed;
    std::vector<const TokenObjects::Certificate*> others;
    std::vector<const TokenObjects::Certificate*> hiddenCa;
    const bool keysHidden = objects.privateKeys.empty() && (slot.flags & kCkfLoginRequired) != 0;
    std::vector<CertificateSummary> decoded(objects.certificates.size());
    for (std::size_t i = 0; i < objects.certificates.size(); ++i) {
        const auto& certificate = objects.certificates[i];
        decoded[i].der = certificate.der;
        const auto info = service::decodeListing(decoded[i]);
        const bool ca = info && info->basicConstraints && info->basicConstraints->ca;
        const bool candidate = !certificate.id.empty() && info.has_value();
        if (candidate && std::any_of(objects.privateKeys.begin(), objects.privateKeys.end(),
                                     [&](const auto& key) { return key.id == certificate.id; })) {
            keyed.push_back(&certificate);
        } else if (candidate && keysHidden && !ca) {
            keyed.push_back(&certificate);
        } else if (candidate && keysHidden && info->selfSigned) {
            hiddenCa.push_back(&certificate);
        } else {
            others.push_back(&certificate);
        }
    }
    if (keyed.empty()) std::swap(keyed, hiddenCa);
    others.insert(others.end(), hiddenCa.begin(), hiddenCa.end());
    if (keyed.empty()) return token;
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto* a, const auto* b) { return a->id < b->id; });

    auto& card = token.card;
    const auto summaryOf = [&](const TokenObjects::Certificate* certificate) {
        const auto index = static_cast<std::size_t>(certificate - objects.certificates.data());
        return decoded[index];
    };
    for (const auto* certificate : keyed) {
        auto summary = summaryOf(certificate);
        summary.id = card.certificates.empty() ? std::string(kSigningCertificateId) : "key-" + hexEncode(certificate->id);
        summary.keyPin = std::string(kUserPinId);
        const auto info = cert::parseCertificate(certificate->der);
        token.keys.push_back(Key{summary.id, certificate->id, info.publicKey.type == "EC"});
        card.certificates.push_back(std::move(summary));
    }
    for (std::size_t i = 0; i < others.size(); ++i) {
        auto summary = summaryOf(others[i]);
        summary.id = "ca-" + std::to_string(i + 1);
        card.certificates.push_back(std::move(summary));
    }
    std::string identity = slot.serial;
    identity += '\0';
    identity += slot.label;
    identity += '\0';
    Bytes input(identity.begin(), identity.end());
    input.insert(input.end(), keyed.front()->der.begin(), keyed.front()->der.end());
    card.id = card::cardIdFor(kCardIdNamespace, input);
    card.reader = slot.slotDescription.empty() ? slot.label : slot.slotDescription;
    card.profile = std::string(kPkcs11Profile);
    card.label = card.certificates.front().commonName.empty() ? slot.label : card.certificates.front().commonName;
    card.pins.push_back(PinSummary{std::string(kUserPinId), std::string(kPinLabel), pinStatusFromFlags(slot.flags),
                                   pinFormat(slot), std::nullopt});
    card.signingCertificateId = std::string(kSigningCertificateId);
    return token;
}

void Pkcs11Tokens::refresh()
{
    const auto list = module_->slots();
    if (list.rv != kCkrOk) {
        throw Error(ErrorCode::CardError, "the slot list could not be read: " + returnValueName(list.rv));
    }
    std::vector<Token> known;
    {
        const std::lock_guard lock(mutex_);
        known = tokens_;
    }
    std::vector<Token> now;
    for (const auto& slot : list.tokens) {
        const auto same = std::find_if(known.begin(), known.end(), [&](const Token& token) {
            return token.slot.slot == slot.slot && token.slot.serial == slot.serial && token.slot.label == slot.label;
        });
        if (same != known.end()) {
            now.push_back(*same);
            now.back().slot = slot;
            if (!now.back().card.pins.empty()) now.back().card.pins.front().status = pinStatusFromFlags(slot.flags);
        } else {
            now.push_back(read(slot));
            const auto& card = now.back().card;
            if (!card.id.empty() && options_.log) {
                options_.log("PKCS#11 token \"" + slot.label + "\" in \"" + card.reader + "\" listed as card " + card.id);
            }
        }
    }
    // Under the lock, as the card service does: the stream shows changes in the registry's order.
    const std::lock_guard lock(mutex_);
    const auto listedIn = [](const std::vector<Token>& tokens, const std::string& id) {
        return std::any_of(tokens.begin(), tokens.end(), [&](const Token& t) { return t.card.id == id; });
    };
    for (const auto& token : tokens_) {
        if (token.card.id.empty() || listedIn(now, token.card.id)) continue;
        if (options_.log) options_.log("PKCS#11 token \"" + token.slot.label + "\" (card " + token.card.id + ") is gone");
        events_.cardRemoved(token.card.reader, token.card.id);
    }
    for (const auto& token : now) {
        if (!token.card.id.empty() && !listedIn(tokens_, token.card.id)) events_.cardInserted(token.card.reader, {}, token.card);
    }
    tokens_ = std::move(now);
}

bool Pkcs11Tokens::has(const std::string& cardId) const
{
    const std::lock_guard lock(mutex_);
    return std::any_of(tokens_.begin(), tokens_.end(), [&](const Token& token) { return token.card.id == cardId; });
}

Pkcs11Tokens::Token Pkcs11Tokens::find(const std::string& cardId) const
{
    const std::lock_guard lock(mutex_);
    for (const auto& token : tokens_) {
        if (!token.card.id.empty() && token.card.id == cardId) return token;
    }
    throw Error(ErrorCode::CardNotFound, "no card or token with this id");
}

void Pkcs11Tokens::updateFlags(const Token& token, std::uint64_t flags)
{
    const std::lock_guard lock(mutex_);
    for (auto& known : tokens_) {
        if (known.card.id != token.card.id) continue;
        known.slot.flags = flags;
        known.card.pins.front().status = pinStatusFromFlags(flags);
    }
}

PinStatus Pkcs11Tokens::freshStatus(const Token& token)
{
    const auto list = module_->slots();
    for (const auto& slot : list.tokens) {
        if (slot.slot == token.slot.slot && slot.serial == token.slot.serial && slot.label == token.slot.label) {
            updateFlags(token, slot.flags);
            return pinStatusFromFlags(slot.flags);
        }
    }
    throw removed();
}

const Secret& Pkcs11Tokens::pinValue(const Token& token, const PinInput& pin, std::string_view what) const
{
    if (pin.isOnPinpad()) throw Error(ErrorCode::UnsupportedOperation, "inkand takes a token's PIN from the request, not from a PIN pad");
    token.card.pins.front().format.check(pin.value(), what);
    return pin.value();
}

void Pkcs11Tokens::throwFor(const Token& token, const PinAnswer& answer)
{
    updateFlags(token, answer.flags);
    const auto status = pinStatusFromFlags(answer.flags);
    switch (answer.rv) {
    case kCkrPinIncorrect: {
        if (status.blocked) throw Error(ErrorCode::PinBlocked, "wrong PIN; the token's PIN is now locked").withTriesLeft(0);
        Error error(ErrorCode::PinIncorrect, status.triesLeftKnown ? "wrong PIN; the token says the next wrong PIN locks it"
                                                                   : "wrong PIN (the token does not tell how many tries are left)");
        if (status.triesLeftKnown) error.withTriesLeft(status.triesLeft);
        throw error;
    }
    case kCkrPinLocked:
        throw Error(ErrorCode::PinBlocked, "the token's PIN is locked; only its issuer or security officer can reset it").withTriesLeft(0);
    case kCkrPinLenRange:
    case kCkrPinInvalid: throw Error(ErrorCode::PinFormat, "the token refuses this PIN's length or characters");
    case kCkrPinExpired:
    case kCkrUserPinNotInitialized:
        throw Error(ErrorCode::UnsupportedOperation, "the token's PIN must be set or changed with the vendor's software first");
    case kCkrFunctionCanceled: throw Error(ErrorCode::PinCancelled, "the PIN entry was cancelled on the token");
    case kCkrMechanismInvalid: throw Error(ErrorCode::UnsupportedAlgorithm, "the token cannot sign with this mechanism");
    case kCkrKeyHandleInvalid: throw Error(ErrorCode::CardError, "the token shows no private key for this certificate after the login");
    case kCkrFunctionNotSupported: throw Error(ErrorCode::UnsupportedOperation, "the token's module does not do this");
    default:
        if (removedRv(answer.rv)) throw removed();
        throw Error(ErrorCode::CardError, "the token answered " + returnValueName(answer.rv));
    }
}

template <class T, class Body>
void Pkcs11Tokens::run(Body body, Completion<T> done)
{
    auto task = service::makeCompletionTask<T>(std::move(body), std::move(done));
    if (auto refused = worker_.post(std::move(task))) refused->fail(std::make_exception_ptr(worker_.retireReason()));
}

void Pkcs11Tokens::status(Completion<AgentStatus> done) { done(AgentStatus{true, {}}); }

void Pkcs11Tokens::cards(Completion<std::vector<CardSummary>> done)
{
    std::vector<CardSummary> list;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& token : tokens_) {
            if (!token.card.id.empty()) list.push_back(token.card);
        }
    }
    done(std::move(list));
}

void Pkcs11Tokens::card(const std::string& cardId, Completion<CardSummary> done)
{
    run<CardSummary>([this, cardId] { return find(cardId).card; }, std::move(done));
}

void Pkcs11Tokens::certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done)
{
    run<CertificateSummary>(
        [this, cardId, certId] {
            for (auto& certificate : find(cardId).card.certificates) {
                if (certificate.id == certId) return certificate;
            }
            throw Error(ErrorCode::NotFound, "the token has no certificate with this id");
        },
        std::move(done));
}

void Pkcs11Tokens::pinStatus(const std::string& cardId, const std::string& pinId, Completion<PinStatus> done)
{
    run<PinStatus>(
        [this, cardId, pinId] {
            const auto token = find(cardId);
            (void)token.card.pin(pinId);
            return freshStatus(token);
        },
        std::move(done));
}

void Pkcs11Tokens::unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done)
{
    run<PinStatus>([]() -> PinStatus {
        throw Error(ErrorCode::UnsupportedOperation, "inkand does not unblock a token's PIN; use the vendor's software");
    }, std::move(done));
}

void Pkcs11Tokens::verifyPin(const std::string& cardId, const std::string& pinId, PinInput pin, PinCheck check,
                             Completion<PinStatus> done)
{
    run<PinStatus>(
        [this, cardId, pinId, pin = std::move(pin), check = std::move(check)] {
            const auto token = find(cardId);
            (void)token.card.pin(pinId);
            const auto& value = pinValue(token, pin, "PIN");
            const auto before = freshStatus(token);
            if (check) check(before);
            if (before.blocked) throwFor(token, PinAnswer{kCkrPinLocked, token.slot.flags});
            const auto answer = module_->login(token.slot.slot, value);
            if (answer.rv != kCkrOk) throwFor(token, answer);
            updateFlags(token, answer.flags);
            return pinStatusFromFlags(answer.flags);
        },
        std::move(done));
}

void Pkcs11Tokens::changePin(const std::string& cardId, const std::string& pinId, PinInput pin, PinInput newPin,
                             PinCheck check, Completion<PinStatus> done)
{
    run<PinStatus>(
        [this, cardId, pinId, pin = std::move(pin), newPin = std::move(newPin), check = std::move(check)] {
            const auto token = find(cardId);
            (void)token.card.pin(pinId);
            const auto& value = pinValue(token, pin, "PIN");
            const auto& newValue = pinValue(token, newPin, "new PIN");
            const auto before = freshStatus(token);
            if (check) check(before);
            if (before.blocked) throwFor(token, PinAnswer{kCkrPinLocked, token.slot.flags});
            const auto answer = module_->setPin(token.slot.slot, value, newValue);
            if (answer.rv != kCkrOk) throwFor(token, answer);
            updateFlags(token, answer.flags);
            return pinStatusFromFlags(answer.flags);
        },
        std::move(done));
}

void Pkcs11Tokens::unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck,
                              Completion<PinStatus> done)
{
    run<PinStatus>([]() -> PinStatus {
        throw Error(ErrorCode::UnsupportedOperation, "inkand does not unblock a token's PIN; use the vendor's software");
    }, std::move(done));
}

void Pkcs11Tokens::sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done)
{
    run<SignResult>(
        [this, cardId, request = std::move(request), check = std::move(check)] {
            const auto token = find(cardId);
            const auto certificateId = request.certificateId.value_or(std::string(kSigningCertificateId));
            const auto key = std::find_if(token.keys.begin(), token.keys.end(),
                                          [&](const Key& k) { return k.certificateId == certificateId; });
            if (key == token.keys.end()) throw Error(ErrorCode::BadRequest, "the token has no signing key for this certificate");
            // Nothing stays logged in between requests: the PIN comes with each signature.
            if (!request.pin) throw Error(ErrorCode::PinRequired, "a PKCS#11 token signs with its PIN in the request");
            const auto& pin = pinValue(token, *request.pin, "PIN");

            SignResult result;
            result.certificateId = certificateId;
            for (const auto& certificate : token.card.certificates) {
                if (certificate.id == certificateId) result.certificate = certificate.der;
            }
            const auto algorithm = std::string(card::digestAlgorithmName(request.digestAlgorithm));
            std::uint64_t mechanism = 0;
            Bytes data;
            // An empty mechanism list (the module did not tell): try the usual one.
            const bool anyMechanism = token.mechanisms.empty();
            if (key->ec) {
                if (request.digest.size() != card::digestLength(request.digestAlgorithm)) {
                    throw Error(ErrorCode::BadRequest, "the digest does not have the length of " + algorithm);
                }
                if (!anyMechanism && !hasMechanism(token.mechanisms, kCkmEcdsa)) {
                    throw Error(ErrorCode::UnsupportedAlgorithm, "the token does not sign with CKM_ECDSA");
                }
                mechanism = kCkmEcdsa;
                data = request.digest;
                result.signatureAlgorithm = "ECDSA-" + algorithm;
            } else {
                const auto digestInfo = card::digestInfo(request.digestAlgorithm, request.digest);
                if (anyMechanism || hasMechanism(token.mechanisms, kCkmRsaPkcs)) {
                    mechanism = kCkmRsaPkcs;
                    data = digestInfo;
                } else if (hasMechanism(token.mechanisms, kCkmRsaX509)) {
                    // Raw RSA: inkand pads (RFC 8017 §9.2) to the modulus' length.
                    const auto info = cert::parseCertificate(result.certificate);
                    mechanism = kCkmRsaX509;
                    data = pkcs1Block(digestInfo, static_cast<std::size_t>((info.publicKey.bits + 7) / 8));
                } else {
                    // CKM_SHA256_RSA_PKCS and its kin hash the message themselves; inkand has the digest only.
                    throw Error(ErrorCode::UnsupportedAlgorithm, "the token signs neither with CKM_RSA_PKCS nor CKM_RSA_X_509; "
                                                                 "inkand signs digests");
                }
                result.signatureAlgorithm = "RSASSA-PKCS1-v1_5-" + algorithm;
            }

            const auto before = freshStatus(token);
            if (check) check(before);
            if (before.blocked) throwFor(token, PinAnswer{kCkrPinLocked, token.slot.flags});
            auto answer = module_->sign(token.slot.slot, pin, key->keyId, mechanism, data);
            if (answer.rv != kCkrOk) throwFor(token, answer);
            updateFlags(token, answer.flags);
            result.signature = key->ec ? ecdsaSignatureToDer(answer.signature) : std::move(answer.signature);
            return result;
        },
        std::move(done));
}

void Pkcs11Tokens::endPinVerification(const std::string&, Completion<std::monostate> done) { done(std::monostate{}); }

void Pkcs11Tokens::shutdown()
{
    {
        const std::lock_guard lock(pollMutex_);
        stopping_ = true;
    }
    pollWake_.notify_all();
    if (poller_.joinable() && poller_.get_id() != std::this_thread::get_id()) poller_.join();
    worker_.retire(Error(ErrorCode::Busy, "inkand is shutting down"));
    worker_.join();
}

}  // namespace inkan::pkcs11
