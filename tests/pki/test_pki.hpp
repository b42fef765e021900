// inkan tests — the test PKI (make-test-pki.sh) and the servers that publish
// its revocation data, for the certificate unit tests.
//
// The PKI is generated once per test process into a temporary directory with
// free loopback ports baked into the leaves' AIA / CDP URLs. Servers are child
// processes owned by RAII objects: a test that fails or throws still stops them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/cert/certificate.hpp"

extern char** environ;

namespace inkan::testing {

inline std::vector<std::uint8_t> readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    return {std::istreambuf_iterator<char>(in), {}};
}

inline void writeFile(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

/// A loopback TCP port nobody listens on right now (the kernel's choice).
inline int freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

inline bool portAccepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

/// Run a command to completion; its exit status (-1 when it could not start).
inline int runCommand(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// How to tell a freshly started server is ready.
struct Readiness {
    int port = 0;              // it accepts TCP connections here, or
    std::string logContains;   // its log shows this line (for servers a bare probe would wedge)
};

/// A server child process; stopped (SIGTERM, then reaped) when this object goes away.
class ServerProcess {
public:
    ServerProcess(const std::vector<std::string>& argv, const Readiness& ready, const std::filesystem::path& log) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw std::runtime_error("cannot start " + argv[0]);
        }
        const auto isReady = [&] {
            if (!ready.logContains.empty()) {
                std::ifstream in(log);
                const std::string text((std::istreambuf_iterator<char>(in)), {});
                return text.find(ready.logContains) != std::string::npos;
            }
            return portAccepts(ready.port);
        };
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!isReady()) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error(argv[0] + " exited early; see " + log.string());
            }
            if (std::chrono::steady_clock::now() > deadline) {
                stop();
                throw std::runtime_error(argv[0] + " did not become ready; see " + log.string());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~ServerProcess() { stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
};

/// The generated PKI: paths and the ports its URLs point to.
struct TestPki {
    std::filesystem::path dir;
    int ocspPort = 0;
    int crlPort = 0;

    // From the build's source directory (tests/CMakeLists.txt), not __FILE__:
    // a compiler cache may compile with relative paths.
    std::filesystem::path scriptDir() const { return std::filesystem::path(INKAN_SOURCE_DIR) / "tests" / "pki"; }
    std::filesystem::path trustDir() const { return dir / "trust"; }
    std::filesystem::path wwwDir() const { return dir / "www"; }
    std::filesystem::path log() const { return dir / "commands.log"; }
    std::filesystem::path serverLog(const std::string& name, int port) const {
        return dir / (name + "-" + std::to_string(port) + ".log");
    }
    std::vector<std::uint8_t> leaf(const std::string& name) const { return readFile(dir / "leaves" / (name + ".der")); }
    std::vector<std::uint8_t> pemAsDer(const std::string& relative) const {
        return cert::certificateDerFromPemOrDer(readFile(dir / relative));
    }
    std::string ocspUrl() const { return "http://127.0.0.1:" + std::to_string(ocspPort) + "/"; }
    std::string crlUrl() const { return "http://127.0.0.1:" + std::to_string(crlPort) + "/intermediate.crl"; }

    /// `openssl ocsp` answering for the issuing CA from its database, signing
    /// with `signer` ("signer", "no-eku", "other-ca" under ocsp/, or
    /// "intermediate" for the CA itself); nextUpdate one day ahead.
    ServerProcess startOcspResponder(int port, const std::string& signer = "signer") const {
        const bool isCa = signer == "intermediate";
        const auto cert = isCa ? dir / "intermediate.pem" : dir / "ocsp" / (signer + ".pem");
        const auto key = dir / "private" / (isCa ? "intermediate.key" : "ocsp-" + signer + ".key");
        return ServerProcess({"openssl", "ocsp", "-index", (dir / "ca" / "index.txt").string(), "-port",
                              std::to_string(port), "-CA", (dir / "intermediate.pem").string(), "-rsigner",
                              cert.string(), "-rkey", key.string(), "-ndays", "1"},
                             // A TCP probe that sends nothing wedges the single-threaded
                             // `openssl ocsp` loop: wait for its banner instead.
                             {port, "waiting for OCSP client connections"}, serverLog("ocsp", port));
    }

    /// `python3 -m http.server` publishing www/ (the CRL) on loopback.
    ServerProcess startCrlServer(int port) const {
        return ServerProcess({"python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                              "--directory", wwwDir().string()},
                             {port, {}}, serverLog("crl", port));
    }

    /// A server that answers every OCSP request with the bytes of `responseFile`.
    ServerProcess startStaticOcspResponder(int port, const std::filesystem::path& responseFile) const {
        return ServerProcess({"python3", (scriptDir() / "static_ocsp_responder.py").string(), std::to_string(port),
                              responseFile.string()},
                             {port, {}}, serverLog("static-ocsp", port));
    }

    /// A server that answers every request with a redirect to `location`.
    ServerProcess startRedirector(int port, const std::string& location) const {
        return ServerProcess({"python3", (scriptDir() / "static_ocsp_responder.py").string(), std::to_string(port),
                              "--redirect", location},
                             {port, {}}, serverLog("redirect", port));
    }

    /// Pre-make an OCSP response for leaf `name` with the openssl CLI (no network).
    /// `nonce`: the request carries one (which the response echoes).
    std::filesystem::path premadeOcspResponse(const std::string& name, const std::string& signer, bool nonce,
                                              const std::string& tag, bool includeCerts = true) const {
        const auto request = dir / ("premade-" + tag + ".req");
        const auto response = dir / ("premade-" + tag + ".resp");
        const bool isCa = signer == "intermediate";
        const auto cert = isCa ? dir / "intermediate.pem" : dir / "ocsp" / (signer + ".pem");
        const auto key = dir / "private" / (isCa ? "intermediate.key" : "ocsp-" + signer + ".key");
        if (runCommand({"openssl", "ocsp", "-issuer", (dir / "intermediate.pem").string(), "-cert",
                        (dir / "leaves" / (name + ".pem")).string(), nonce ? "-nonce" : "-no_nonce", "-reqout",
                        request.string()},
                       log()) != 0) {
            throw std::runtime_error("openssl ocsp -reqout failed");
        }
        std::vector<std::string> respond = {"openssl", "ocsp", "-index", (dir / "ca" / "index.txt").string(),
                                            "-CA", (dir / "intermediate.pem").string(), "-rsigner", cert.string(),
                                            "-rkey", key.string(), "-reqin", request.string(), "-respout",
                                            response.string(), "-ndays", "1"};
        if (!includeCerts) respond.push_back("-resp_no_certs");
        if (runCommand(respond, log()) != 0) {
            throw std::runtime_error("openssl ocsp -respout failed");
        }
        return response;
    }
};

/// Generated on first use, removed at exit.
inline const TestPki& testPki() {
    struct Owner {
        TestPki pki;
        Owner() {
            char pattern[] = "/tmp/inkan-test-pki-XXXXXX";
            if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
            pki.dir = pattern;
            pki.ocspPort = freeLoopbackPort();
            pki.crlPort = freeLoopbackPort();
            while (pki.crlPort == pki.ocspPort) pki.crlPort = freeLoopbackPort();
            const auto script = pki.scriptDir() / "make-test-pki.sh";
            const auto pkiDir = pki.dir / "pki";
            if (runCommand({script.string(), pkiDir.string(), std::to_string(pki.ocspPort),
                            std::to_string(pki.crlPort)},
                           pki.dir / "make-test-pki.log") != 0) {
                throw std::runtime_error("make-test-pki.sh failed; see " + (pki.dir / "make-test-pki.log").string());
            }
            pki.dir = pkiDir;
        }
        ~Owner() {
            std::error_code ec;
            std::filesystem::remove_all(pki.dir.parent_path(), ec);
        }
    };
    static const Owner owner;
    return owner.pki;
}

}  // namespace inkan::testing
