// inkan CLI — helper programs on POSIX systems (process.hpp): posix_spawnp, a
// pipe for their output, waitpid.
#include "client-sdk/cli/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client-sdk/cli/failure.hpp"
#include "client-sdk/cli/files.hpp"

extern char** environ;

namespace inkan::cli {
namespace {

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() noexcept { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

}  // namespace

ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& installHint)
{
    int pipeEnds[2];
    if (::pipe2(pipeEnds, O_CLOEXEC) != 0) throw Failure(ExitCode::LocalIo, "cannot create a pipe: " + systemReason());
    FileDescriptor readEnd{pipeEnds[0]};
    FileDescriptor writeEnd{pipeEnds[1]};

    SpawnActions actions;
    posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), writeEnd.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(actions.get(), writeEnd.get(), STDERR_FILENO);

    std::vector<char*> arguments;
    for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);

    pid_t child = -1;
    int spawned = ::posix_spawnp(&child, arguments[0], actions.get(), nullptr, arguments.data(), environ);
    if (spawned != 0) {
        errno = spawned;
        throw Failure(ExitCode::LocalIo, "cannot run " + argv[0] + ": " + systemReason(), installHint);
    }
    writeEnd.reset();  // only the child writes now: read until it closes its end

    ProcessResult result;
    char chunk[4096];
    for (;;) {
        ssize_t n = ::read(readEnd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.output.append(chunk, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) throw Failure(ExitCode::LocalIo, "lost track of " + argv[0] + ": " + systemReason());
    }
    result.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

bool onPath(const std::string& program)
{
    const char* path = std::getenv("PATH");
    if (!path || program.find('/') != std::string::npos) return false;
    std::stringstream directories(path);
    std::string directory;
    while (std::getline(directories, directory, ':')) {
        if (directory.empty()) continue;
        if (::access((directory + "/" + program).c_str(), X_OK) == 0) return true;
    }
    return false;
}

bool startDetached(const std::vector<std::string>& argv, std::chrono::milliseconds grace)
{
    SpawnActions actions;
    posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);

    std::vector<char*> arguments;
    for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);

    pid_t child = -1;
    const int spawned = ::posix_spawnp(&child, arguments[0], actions.get(), &attributes, arguments.data(), environ);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) return false;

    constexpr std::chrono::milliseconds kPoll{50};
    for (auto waited = std::chrono::milliseconds(0); waited < grace; waited += kPoll) {
        int status = 0;
        const pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (done < 0 && errno != EINTR) return false;
        std::this_thread::sleep_for(kPoll);
    }
    return true;  // still running: a browser started in the foreground
}

}  // namespace inkan::cli
