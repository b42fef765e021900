// PKCS#12 file credentials (file_credentials.hpp).
#include "daemon/credentials/file_credentials.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "daemon/base64.hpp"
#include "daemon/card/iso7816_files.hpp"
#include "daemon/cert/certificate.hpp"
#include "daemon/error.hpp"
#include "daemon/platform/filesystem.hpp"
#include "daemon/service/certificate_checker.hpp"
#include "daemon/service/completion_task.hpp"

namespace inkan::credentials {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCardIdNamespace = "pkcs12:";
constexpr std::string_view kSigningCertificateId = "sign";
constexpr std::string_view kFileExtension = ".p12";
constexpr std::string_view kMetadataExtension = ".json";
constexpr platform::FileAccess kFileAccess = platform::FileAccess::OwnerOnly;
// A password is whatever the exporting software accepted; only its length is bounded.
constexpr PinFormat kPasswordFormat{1, 1024, PinFormat::Alphabet::Any};
constexpr std::string_view kPasswordLabel = "the file's password";

// state::writeFileAtomically writes "<name>.XXXXXX" and renames it to <name>:
// one left over was cut short and holds nothing the credential needs.
bool isInterruptedWrite(const fs::path& path)
{
    const auto stem = path.stem().extension();
    return (stem == kFileExtension || stem == kMetadataExtension) && path.extension().string().size() == 7;
}

std::string certificateName(std::size_t index) { return index == 0 ? "sign" : "ca-" + std::to_string(index); }

}  // namespace

struct FileCredentials::Entry {
    std::string id;
    // The key's certificate first ("sign"), then the file's others, decoded
    // once when the entry is loaded or imported (listings only copy them).
    std::vector<CertificateSummary> certificates;
    int triesLeft = kFileMaxTries;

    void addCertificate(Bytes der)
    {
        CertificateSummary certificate;
        certificate.id = certificateName(certificates.size());
        certificate.der = std::move(der);
        (void)service::decodeListing(certificate);  // one that does not parse is listed with its DER only
        if (certificates.empty()) certificate.keyPin = std::string(kPasswordPinId);
        certificates.push_back(std::move(certificate));
    }
};

FileCredentials::FileCredentials(fs::path dir, service::CardEvents events,
                                 std::function<std::chrono::system_clock::time_point()> now)
    : dir_(std::move(dir)), events_(std::move(events)), now_(std::move(now))
{
    if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
    platform::tightenDirectory(dir_);
    std::error_code error;
    for (const auto& file : fs::directory_iterator(dir_, error)) {
        if (isInterruptedWrite(file.path())) {
            fs::remove(file.path(), error);  // a write cut short (a crash before its rename)
            continue;
        }
        if (file.path().extension() != kMetadataExtension) continue;
        try {
            const auto text = platform::readFile(file.path());
            const auto json = nlohmann::json::parse(text.value_or("{}"));
            auto entry = std::make_unique<Entry>();
            entry->id = file.path().stem().string();
            for (const auto& certificate : json.at("certificates")) {
                entry->addCertificate(base64Decode(certificate.get<std::string>()).value());
            }
            entry->triesLeft = std::clamp(json.at("triesLeft").get<int>(), 0, kFileMaxTries);
            if (!entry->certificates.empty() && fs::exists(dir_ / (entry->id + std::string(kFileExtension)))) {
                entries_.push_back(std::move(entry));
            }
        } catch (const std::exception&) {
            // A damaged entry is skipped; importing the file again repairs it.
        }
    }
}

FileCredentials::~FileCredentials() { shutdown(); }

bool FileCredentials::has(const std::string& cardId) const
{
    const std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e->id == cardId; });
}

FileCredentials::Entry& FileCredentials::find(const std::string& cardId)
{
    const std::lock_guard lock(mutex_);
    for (auto& entry : entries_) {
        if (entry->id == cardId) return *entry;
    }
    throw Error(ErrorCode::CardNotFound, "no card or credential with this id");
}

void FileCredentials::saveCounter(const Entry& entry) const
{
    nlohmann::json certificates = nlohmann::json::array();
    for (const auto& certificate : entry.certificates) certificates.push_back(base64Encode(certificate.der));
    const nlohmann::json json{{"certificates", certificates}, {"triesLeft", entry.triesLeft}, {"maxTries", kFileMaxTries}};
    platform::writeFileAtomically(dir_ / (entry.id + std::string(kMetadataExtension)), json.dump(), kFileAccess);
}

CardSummary FileCredentials::summaryOf(const Entry& entry) const
{
    CardSummary card;
    card.id = entry.id;
    card.reader = std::string(kFileReader);
    card.profile = std::string(kPkcs12Profile);
    card.pins.push_back(PinSummary{std::string(kPasswordPinId), std::string(kPasswordLabel),
                                   PinStatus{entry.triesLeft, kFileMaxTries, entry.triesLeft == 0}, kPasswordFormat,
                                   std::nullopt});
    card.signingCertificateId = std::string(kSigningCertificateId);
    card.certificates = entry.certificates;
    card.label = card.certificates.empty() || card.certificates.front().commonName.empty()
                     ? "PKCS#12 file"
                     : card.certificates.front().commonName;
    return card;
}

ImportResult FileCredentials::importFile(pcsc::ByteView file, const Secret& password)
{
    kPasswordFormat.check(password, "password");
    const auto opened = openPkcs12(file, password);
    if (const auto problem = keyProblem(opened.key.get()); !problem.empty()) {
        throw Error(ErrorCode::CredentialInvalid, "the file's key is " + problem + "; inkan signs with RSA (2048 bits or "
                                                  "more) and EC P-256/P-384 keys");
    }
    ImportResult result;
    const auto info = cert::parseCertificate(opened.certificate);
    if (cert::expiryOf(info, now_(), 0).expired) {
        result.warnings.push_back("the certificate expired on " + info.notAfter + "; signatures made with it are not valid");
    }

    auto entry = std::make_unique<Entry>();
    entry->id = card::cardIdFor(kCardIdNamespace, opened.certificate);
    entry->addCertificate(opened.certificate);
    for (const auto& other : opened.chain) entry->addCertificate(other);
    const std::string bytes(file.begin(), file.end());
    platform::writeFileAtomically(dir_ / (entry->id + std::string(kFileExtension)), bytes, kFileAccess);
    try {
        saveCounter(*entry);
    } catch (...) {
        std::error_code ignored;
        fs::remove(dir_ / (entry->id + std::string(kFileExtension)), ignored);
        throw;
    }
    result.card = summaryOf(*entry);
    const std::lock_guard lock(mutex_);
    const auto replaced = std::erase_if(entries_, [&](const auto& e) { return e->id == entry->id; });
    if (replaced != 0) events_.cardRemoved(std::string(kFileReader), entry->id);
    entries_.push_back(std::move(entry));
    events_.cardInserted(std::string(kFileReader), {}, result.card);
    events_.certificateExpiry(result.card.id, std::string(kSigningCertificateId), info.notAfter,
                              cert::expiryOf(info, now_(), events_.warnDays()));
    return result;
}

void FileCredentials::remove(const std::string& cardId)
{
    {
        const std::lock_guard lock(mutex_);
        const auto before = entries_.size();
        std::erase_if(entries_, [&](const auto& e) { return e->id == cardId; });
        if (entries_.size() == before) throw Error(ErrorCode::CardNotFound, "no credential with this id");
        events_.cardRemoved(std::string(kFileReader), cardId);
    }
    std::error_code ignored;
    fs::remove(dir_ / (cardId + std::string(kFileExtension)), ignored);
    fs::remove(dir_ / (cardId + std::string(kMetadataExtension)), ignored);
}

template <class T, class Body>
void FileCredentials::run(Body body, Completion<T> done)
{
    auto task = service::makeCompletionTask<T>(std::move(body), std::move(done));
    if (auto refused = worker_.post(std::move(task))) refused->fail(std::make_exception_ptr(worker_.retireReason()));
}

OpenedPkcs12 FileCredentials::open(Entry& entry, const PinInput& password, const PinCheck& check,
                                   service::PinOperation operation)
{
    if (password.isOnPinpad()) throw Error(ErrorCode::UnsupportedOperation, "a file's password is not typed on a PIN pad");
    kPasswordFormat.check(password.value(), "password");
    const PinStatus before{entry.triesLeft, kFileMaxTries, entry.triesLeft == 0};
    if (check) check(before);
    if (before.blocked) throw Error(ErrorCode::PinBlocked, "the file's password is blocked; import the file again").withTriesLeft(0);
    Bytes file;
    {
        std::ifstream in(dir_ / (entry.id + std::string(kFileExtension)), std::ios::binary);
        file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    try {
        auto opened = openPkcs12(file, password.value());
        if (entry.triesLeft != kFileMaxTries) {
            entry.triesLeft = kFileMaxTries;
            saveCounter(entry);
        }
        events_.pinStatus(entry.id, std::string(kPasswordPinId), PinStatus{entry.triesLeft, kFileMaxTries, false},
                          operation, false);
        return opened;
    } catch (const Error& e) {
        if (e.code() != ErrorCode::PinIncorrect) throw;
        entry.triesLeft = std::max(0, entry.triesLeft - 1);
        saveCounter(entry);
        events_.pinStatus(entry.id, std::string(kPasswordPinId),
                          PinStatus{entry.triesLeft, kFileMaxTries, entry.triesLeft == 0}, operation, false);
        if (entry.triesLeft == 0) throw Error(ErrorCode::PinBlocked, "wrong password; the file's password is now blocked").withTriesLeft(0);
        throw Error(ErrorCode::PinIncorrect, "the file's password is wrong").withTriesLeft(entry.triesLeft);
    }
}

void FileCredentials::status(Completion<AgentStatus> done) { done(AgentStatus{true, {}}); }

void FileCredentials::cards(Completion<std::vector<CardSummary>> done)
{
    std::vector<CardSummary> list;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& entry : entries_) list.push_back(summaryOf(*entry));
    }
    done(std::move(list));
}

void FileCredentials::card(const std::string& cardId, Completion<CardSummary> done)
{
    run<CardSummary>([this, cardId] { return summaryOf(find(cardId)); }, std::move(done));
}

void FileCredentials::certificate(const std::string& cardId, const std::string& certId, Completion<CertificateSummary> done)
{
    run<CertificateSummary>(
        [this, cardId, certId] {
            for (auto& certificate : summaryOf(find(cardId)).certificates) {
                if (certificate.id == certId) return certificate;
            }
            throw Error(ErrorCode::NotFound, "the credential has no certificate with this id");
        },
        std::move(done));
}

void FileCredentials::pinStatus(const std::string& cardId, const std::string&, Completion<PinStatus> done)
{
    run<PinStatus>([this, cardId] { return summaryOf(find(cardId)).pins.front().status; }, std::move(done));
}

void FileCredentials::unblockCodeStatus(const std::string&, const std::string&, Completion<PinStatus> done)
{
    run<PinStatus>([]() -> PinStatus {
        throw Error(ErrorCode::UnsupportedOperation, "a file's password has no unblock code; import the file again");
    }, std::move(done));
}

void FileCredentials::verifyPin(const std::string& cardId, const std::string&, PinInput pin, PinCheck check,
                                Completion<PinStatus> done)
{
    run<PinStatus>(
        [this, cardId, pin = std::move(pin), check = std::move(check)] {
            auto& entry = find(cardId);
            (void)open(entry, pin, check, service::PinOperation::Verify);
            return PinStatus{entry.triesLeft, kFileMaxTries, false};
        },
        std::move(done));
}

void FileCredentials::changePin(const std::string& cardId, const std::string&, PinInput pin, PinInput newPin,
                                PinCheck check, Completion<PinStatus> done)
{
    run<PinStatus>(
        [this, cardId, pin = std::move(pin), newPin = std::move(newPin), check = std::move(check)] {
            if (newPin.isOnPinpad()) throw Error(ErrorCode::UnsupportedOperation, "a file's password is not typed on a PIN pad");
            kPasswordFormat.check(newPin.value(), "new password");
            auto& entry = find(cardId);
            const auto opened = open(entry, pin, check, service::PinOperation::Change);
            const auto rewritten = writePkcs12(opened, newPin.value());
            // A rename: a crash leaves the file under the old password or the new one.
            platform::writeFileAtomically(dir_ / (entry.id + std::string(kFileExtension)),
                                          std::string(rewritten.begin(), rewritten.end()), kFileAccess);
            return PinStatus{entry.triesLeft, kFileMaxTries, false};
        },
        std::move(done));
}

void FileCredentials::unblockPin(const std::string&, const std::string&, PinInput, PinInput, PinCheck,
                                 Completion<PinStatus> done)
{
    run<PinStatus>([]() -> PinStatus {
        throw Error(ErrorCode::UnsupportedOperation, "a file's password has no unblock code; import the file again");
    }, std::move(done));
}

void FileCredentials::sign(const std::string& cardId, SignRequest request, PinCheck check, Completion<SignResult> done)
{
    run<SignResult>(
        [this, cardId, request = std::move(request), check = std::move(check)] {
            auto& entry = find(cardId);
            const auto certificateId = request.certificateId.value_or(std::string(kSigningCertificateId));
            if (certificateId != kSigningCertificateId) {
                throw Error(ErrorCode::BadRequest, "the credential has no signing key for this certificate");
            }
            // Nothing stays unlocked between requests: the password comes with each signature.
            if (!request.pin) throw Error(ErrorCode::PinRequired, "a file credential signs with its password in the request");
            const auto opened = open(entry, *request.pin, check, service::PinOperation::Sign);
            SignResult result;
            result.signature = signDigest(opened.key.get(), request.digestAlgorithm, request.digest, result.signatureAlgorithm);
            result.certificateId = certificateId;
            result.certificate = opened.certificate;
            return result;
        },
        std::move(done));
}

void FileCredentials::endPinVerification(const std::string&, Completion<std::monostate> done) { done(std::monostate{}); }

void FileCredentials::shutdown()
{
    worker_.retire(Error(ErrorCode::Busy, "inkand is shutting down"));
    worker_.join();
}

}  // namespace inkan::credentials
