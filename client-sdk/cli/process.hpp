// inkan CLI — running a helper program (certutil, update-ca-certificates,
// xdg-open).
//
// argv goes straight to the program: no shell, so no path or nickname is
// ever parsed as shell syntax. The seam for the platform: process_posix.cpp
// implements it with posix_spawnp; a Windows build adds its own file
// (docs/windows.md "Where the code changes").
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace inkan::cli {

struct ProcessResult {
    int exitStatus = -1;  // the exit code, or -1 if it was killed by a signal
    std::string output;   // stdout and stderr together
};

/// Runs the program with stdin from /dev/null. Failure(LocalIo) with `installHint`
/// when the program cannot be started (not installed).
ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& installHint = {});

/// Whether `program` is an executable file in a directory of $PATH.
bool onPath(const std::string& program);

/// Starts a program that may go on running (a browser): no standard streams,
/// its own session. Waits at most `grace` for it to fail; false when it could
/// not start or exited unsuccessfully within that time.
bool startDetached(const std::vector<std::string>& argv, std::chrono::milliseconds grace);

}  // namespace inkan::cli
