// inkan — posix_spawn file actions that are destroyed on scope exit, for the
// POSIX code that starts child processes (platform/child_process_posix.cpp,
// pkcs11/helper_module.cpp).
#pragma once

#include <spawn.h>

namespace inkan::platform {

class SpawnActions {
public:
    SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() noexcept { return &actions_; }

private:
    posix_spawn_file_actions_t actions_{};
};

}  // namespace inkan::platform
