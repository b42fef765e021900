// inkan — process-wide settings for POSIX systems (process.hpp).
#include "daemon/platform/process.hpp"

#include <csignal>

namespace inkan::platform {

void ignoreBrokenPipes() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace inkan::platform
