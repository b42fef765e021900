// inkan — child programs on POSIX systems (child_process.hpp): posix_spawn
// with one end of an AF_UNIX socket pair as stdin and stdout.
#include "daemon/platform/child_process.hpp"

#include <cerrno>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/file_descriptor.hpp"
#include "daemon/platform/spawn_actions_posix.hpp"

extern char** environ;

namespace inkan::platform {

namespace {

using Clock = std::chrono::steady_clock;

// How often stop() looks whether the program has exited by itself.
constexpr auto kExitPoll = std::chrono::milliseconds(20);

std::system_error systemError(int code, const std::string& what) { return {code, std::generic_category(), what}; }

class SocketChannel final : public Channel {
public:
    explicit SocketChannel(FileDescriptor socket) : socket_(std::move(socket)) {}

    bool waitReadable(std::chrono::milliseconds wait) override
    {
        pollfd fd{socket_.get(), POLLIN, 0};
        const int ready = ::poll(&fd, 1, static_cast<int>(wait.count()));
        if (ready < 0 && errno != EINTR) throw systemError(errno, "poll");
        return ready > 0;
    }

    std::ptrdiff_t read(void* buffer, std::size_t size, std::error_code& error) override
    {
        const ssize_t n = ::recv(socket_.get(), buffer, size, 0);
        if (n < 0) error.assign(errno, std::generic_category());
        return n;
    }

    std::ptrdiff_t write(const void* buffer, std::size_t size, std::error_code& error) override
    {
        const ssize_t n = ::send(socket_.get(), buffer, size, MSG_NOSIGNAL);
        if (n < 0) error.assign(errno, std::generic_category());
        return n;
    }

    std::intptr_t nativeHandle() const noexcept override { return socket_.get(); }

private:
    FileDescriptor socket_;
};

class PosixChildProcess final : public ChildProcess {
public:
    explicit PosixChildProcess(const std::filesystem::path& program)
    {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw systemError(errno, "socketpair");
        channel_ = std::make_unique<SocketChannel>(FileDescriptor(pair[0]));
        const FileDescriptor theirs(pair[1]);  // closed on return: only the child holds it then, so its exit reads as the end

        platform::SpawnActions actions;
        if (::posix_spawn_file_actions_adddup2(actions.get(), theirs.get(), STDIN_FILENO) != 0 ||
            ::posix_spawn_file_actions_adddup2(actions.get(), theirs.get(), STDOUT_FILENO) != 0 ||
            ::posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
            // Nothing else of inkand (sockets, the TLS key file) reaches the program.
            ::posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1) != 0) {
            throw systemError(ENOMEM, "posix_spawn_file_actions");
        }
        const std::string path = program.string();
        char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
        const int result = ::posix_spawn(&pid_, path.c_str(), actions.get(), nullptr, argv, environ);
        if (result != 0) {
            pid_ = -1;
            throw systemError(result, "posix_spawn " + path);
        }
    }

    ~PosixChildProcess() override { stop(std::chrono::milliseconds(0)); }

    Channel& channel() noexcept override { return *channel_; }

    void stop(std::chrono::milliseconds grace) noexcept override
    {
        if (pid_ <= 0) return;
        const auto deadline = Clock::now() + grace;
        while (true) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            if (Clock::now() >= deadline) break;
            std::this_thread::sleep_for(kExitPoll);
        }
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    std::unique_ptr<SocketChannel> channel_;
    pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<ChildProcess> startChildProcess(const std::filesystem::path& program)
{
    return std::make_unique<PosixChildProcess>(program);
}

bool isExecutable(const std::filesystem::path& program)
{
    return !program.empty() && ::access(program.c_str(), X_OK) == 0;
}

}  // namespace inkan::platform
