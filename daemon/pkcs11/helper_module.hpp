// inkan — a PKCS#11 module run in its own inkan-p11-helper process
// (daemon/pkcs11/helper/main.cpp), spoken to over a socket (wire.hpp).
//
// A module is vendor code inkand cannot vouch for: one that crashes or hangs
// must not take inkand down with it. So inkand never loads it; the helper
// does. A call whose answer does not come (the helper died, or exceeded the
// timeout) kills the helper and fails with TokenModuleFailed; the next call
// starts a new one. Calls are serialized: one request at a time per module.
// PINs cross the socket only, and inkand's copy of each request is wiped once
// it is written.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include "daemon/file_descriptor.hpp"
#include "daemon/pkcs11/module.hpp"
#include "daemon/pkcs11/wire.hpp"

namespace inkan::pkcs11 {

/// The helper could not load the module (not a file, dlopen failed, no
/// C_GetFunctionList, C_Initialize failed): a start-up error naming the path.
class ModuleLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HelperOptions {
    std::filesystem::path helper;  // the inkan-p11-helper executable
    std::filesystem::path module;
    /// How long one call may take before the helper is taken for hung
    /// (a PIN typed on a token's own keypad counts against it).
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    std::function<void(std::string_view)> log;
};

class HelperModule final : public Module {
public:
    /// Starts the helper and waits for its greeting; ModuleLoadError when the
    /// module does not load.
    explicit HelperModule(HelperOptions options);
    ~HelperModule() override;

    /// The module's own description (C_GetInfo), for the log.
    const std::string& description() const noexcept { return description_; }

    const std::string& path() const override { return path_; }
    SlotList slots() override;
    TokenObjects objects(std::uint64_t slot) override;
    PinAnswer login(std::uint64_t slot, const Secret& pin) override;
    SignAnswer sign(std::uint64_t slot, const Secret& pin, const Bytes& keyId, std::uint64_t mechanism,
                    const Bytes& data) override;
    PinAnswer setPin(std::uint64_t slot, const Secret& oldPin, const Secret& newPin) override;

private:
    /// Sends `request` (wiped afterwards) and returns the answer's payload;
    /// TokenModuleFailed when none comes. Starts the helper when none runs.
    std::vector<std::uint8_t> call(wire::Writer& request);
    /// Starts the helper; returns the greeting's CK_RV and sets description_.
    std::uint64_t start(std::string& why);
    void stop() noexcept;
    std::vector<std::uint8_t> readFrame(std::chrono::steady_clock::time_point deadline, std::string& why);
    [[noreturn]] void failed(const std::string& why);

    HelperOptions options_;
    std::string path_;
    std::string description_;
    std::mutex mutex_;
    pid_t pid_ = -1;
    FileDescriptor socket_;
};

/// The inkan-p11-helper beside the running executable (installed together).
std::filesystem::path defaultHelperPath();

}  // namespace inkan::pkcs11
