// inkan CLI — the trust places of a Linux desktop (trust_store.hpp): Debian's
// system store and the NSS databases of Chromium and Firefox, through certutil.
#include "client-sdk/cli/trust_store.hpp"

#include <algorithm>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"
#include "client-sdk/cli/process.hpp"

namespace inkan::cli {
namespace {

// certutil trust attributes "SSL,S/MIME,code signing"; "C" = trusted CA to
// issue server certificates (certutil(1), -t). Nothing else is granted.
constexpr const char* kServerCaTrust = "C,,";
constexpr const char* kCertutilHint = "install it: sudo apt install libnss3-tools";
constexpr const char* kNssDbFile = "cert9.db";  // the sql: format's certificate database
// update-ca-certificates links each certificate it took into /etc/ssl/certs as <name>.pem.
constexpr const char* kSystemLinkDirectory = "/etc/ssl/certs";
constexpr int kMaxDuplicates = 16;

std::string nssDb(const std::filesystem::path& dir)
{
    return "sql:" + dir.string();
}

bool pathExists(const std::filesystem::path& path)
{
    std::error_code ignored;
    return std::filesystem::exists(path, ignored);
}

std::string firstLine(const std::string& text)
{
    std::string line = text.substr(0, text.find('\n'));
    return line.empty() ? "no output" : line;
}

/// The SSL trust field of our nickname in `certutil -L` (a table of
/// "<nickname padded>  <trust>" lines), or empty.
std::string serverTrustOf(const std::string& listing)
{
    std::istringstream lines(listing);
    std::string line;
    std::string nickname = kTrustNickname;
    while (std::getline(lines, line)) {
        if (line.rfind(nickname, 0) != 0) continue;
        std::string rest = line.substr(nickname.size());
        auto start = rest.find_first_not_of(' ');
        auto end = rest.find_last_not_of(" \r");
        if (rest.empty() || rest[0] != ' ' || start == std::string::npos) continue;
        std::string trust = rest.substr(start, end - start + 1);
        // Trust attributes hold no blank: "inkan local CA 2   C,," is another nickname.
        if (trust.find(' ') != std::string::npos) continue;
        return trust.substr(0, trust.find(','));
    }
    return {};
}

class NssDatabase final : public TrustPlace {
public:
    NssDatabase(std::string kind, std::filesystem::path dir, bool createIfMissing)
        : kind_(std::move(kind)), dir_(std::move(dir)), createIfMissing_(createIfMissing) {}

    std::string kind() const override { return kind_; }
    std::filesystem::path location() const override { return dir_; }

    TrustStatus status(const std::optional<Certificate>& ca) const override
    {
        if (!pathExists(dir_ / kNssDbFile)) {
            return {TrustState::NoStore, createIfMissing_ ? "no database yet; install creates it" : "no NSS database here"};
        }
        ProcessResult found = certutil({"-L", "-d", nssDb(dir_), "-n", kTrustNickname, "-a"});
        if (found.exitStatus != 0) return {TrustState::Absent, {}};
        std::vector<Certificate> certificates = Certificate::allFromPem(found.output);
        bool current = ca && std::find(certificates.begin(), certificates.end(), *ca) != certificates.end();
        if (!current) return {TrustState::Outdated, "holds another certificate named \"" + std::string(kTrustNickname) + "\""};
        std::string trust = serverTrustOf(certutil({"-L", "-d", nssDb(dir_)}).output);
        if (trust.find('C') == std::string::npos) return {TrustState::Outdated, "present but not trusted for servers (trust \"" + trust + "\")"};
        return {TrustState::Trusted, {}};
    }

    void install(const Certificate& ca, const std::filesystem::path& caFile) const override
    {
        if (!pathExists(dir_ / kNssDbFile)) {
            if (!createIfMissing_) {
                throw Failure(ExitCode::LocalIo, "no NSS database in " + dir_.string(),
                              "create one with: certutil -N --empty-password -d " + nssDb(dir_));
            }
            std::error_code error;
            std::filesystem::create_directories(dir_, error);
            if (error) throw Failure(ExitCode::LocalIo, "cannot create " + dir_.string() + ": " + error.message());
            std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, error);
            check(certutil({"-N", "--empty-password", "-d", nssDb(dir_)}), "create the NSS database");
        }
        if (status(ca).state == TrustState::Trusted) return;
        remove();  // an outdated certificate under our name would shadow the new one
        check(certutil({"-A", "-d", nssDb(dir_), "-t", kServerCaTrust, "-n", kTrustNickname, "-i", caFile.string()}), "add the CA");
        if (TrustStatus after = status(ca); after.state != TrustState::Trusted) {
            throw Failure(ExitCode::LocalIo, "the CA is still not trusted in " + dir_.string() + ": " + after.detail);
        }
    }

    bool remove() const override
    {
        if (!pathExists(dir_ / kNssDbFile)) return false;
        // A database may hold several certificates under one nickname; each
        // certutil -D deletes one.
        int removed = 0;
        while (removed < kMaxDuplicates && certutil({"-D", "-d", nssDb(dir_), "-n", kTrustNickname}).exitStatus == 0) ++removed;
        return removed > 0;
    }

private:
    static ProcessResult certutil(std::vector<std::string> arguments)
    {
        arguments.insert(arguments.begin(), "certutil");
        return runProcess(arguments, kCertutilHint);
    }

    void check(const ProcessResult& result, const std::string& what) const
    {
        if (result.exitStatus != 0) {
            throw Failure(ExitCode::LocalIo, "certutil could not " + what + " in " + dir_.string() + ": " + firstLine(result.output));
        }
    }

    std::string kind_;
    std::filesystem::path dir_;
    bool createIfMissing_;
};

class SystemStore final : public TrustPlace {
public:
    std::string kind() const override { return "system"; }
    std::filesystem::path location() const override { return std::filesystem::path(kSystemCaDirectory) / kSystemCaFileName; }

    TrustStatus status(const std::optional<Certificate>& ca) const override
    {
        if (!pathExists(kSystemCaDirectory)) return {TrustState::NoStore, "no " + std::string(kSystemCaDirectory) + " (package ca-certificates)"};
        if (!pathExists(location())) return {TrustState::Absent, {}};
        std::vector<Certificate> stored = Certificate::allFromPem(readFile(location()));
        if (!ca || stored.size() != 1 || !(stored.front() == *ca)) return {TrustState::Outdated, "holds another certificate"};
        std::string link = std::filesystem::path(kSystemCaFileName).replace_extension(".pem").string();
        if (!pathExists(std::filesystem::path(kSystemLinkDirectory) / link)) return {TrustState::Outdated, "update-ca-certificates has not run since"};
        return {TrustState::Trusted, {}};
    }

    std::optional<std::string> cannotChange() const override
    {
        if (::geteuid() != 0) return "needs root (sudo inkan trust …)";
        return std::nullopt;
    }

    void install(const Certificate& ca, const std::filesystem::path&) const override
    {
        // update-ca-certificates takes PEM files named *.crt from this directory.
        writeFileAtomically(location(), ca.pem(), 0644);
        updateSystemStore();
    }

    bool remove() const override
    {
        if (!pathExists(location())) return false;
        std::error_code error;
        std::filesystem::remove(location(), error);
        if (error) throw Failure(ExitCode::LocalIo, "cannot remove " + location().string() + ": " + error.message());
        // A plain run rebuilds the bundle but leaves the /etc/ssl/certs links
        // to the removed file dangling; --fresh recreates all the links.
        updateSystemStore({"--fresh"});
        return true;
    }

private:
    static void updateSystemStore(const std::vector<std::string>& options = {})
    {
        std::vector<std::string> command{"update-ca-certificates"};
        command.insert(command.end(), options.begin(), options.end());
        ProcessResult result = runProcess(command, "install it: sudo apt install ca-certificates");
        if (result.exitStatus != 0) throw Failure(ExitCode::LocalIo, "update-ca-certificates failed: " + firstLine(result.output));
    }
};

void addFirefoxProfiles(std::vector<std::unique_ptr<TrustPlace>>& places, const std::filesystem::path& profilesRoot)
{
    std::error_code error;
    std::vector<std::filesystem::path> profiles;
    for (const auto& entry : std::filesystem::directory_iterator(profilesRoot, error)) {
        // Only sql: databases; a profile still in the legacy dbm format
        // (cert8.db) predates Firefox 58 and is left alone.
        if (entry.is_directory(error) && pathExists(entry.path() / kNssDbFile)) profiles.push_back(entry.path());
    }
    std::sort(profiles.begin(), profiles.end());
    for (auto& profile : profiles) places.push_back(std::make_unique<NssDatabase>("firefox", profile, false));
}

}  // namespace

std::string_view trustStateName(TrustState state)
{
    switch (state) {
    case TrustState::Trusted: return "trusted";
    case TrustState::Outdated: return "outdated";
    case TrustState::Absent: return "absent";
    case TrustState::NoStore: return "no-store";
    }
    return "?";
}

std::vector<std::unique_ptr<TrustPlace>> findTrustPlaces(const std::filesystem::path& nssdbOverride)
{
    std::vector<std::unique_ptr<TrustPlace>> places;
    if (!nssdbOverride.empty()) {
        places.push_back(std::make_unique<NssDatabase>("nssdb", std::filesystem::absolute(nssdbOverride), false));
        return places;
    }
    places.push_back(std::make_unique<SystemStore>());
    std::filesystem::path home = homeDirectory();
    // Chrome and Chromium on Linux read this database; it is created when
    // missing so that a browser started later finds the CA already there.
    places.push_back(std::make_unique<NssDatabase>("nssdb", home / ".pki" / "nssdb", true));
    addFirefoxProfiles(places, home / ".mozilla" / "firefox");
    addFirefoxProfiles(places, home / "snap" / "firefox" / "common" / ".mozilla" / "firefox");
    return places;
}

}  // namespace inkan::cli
