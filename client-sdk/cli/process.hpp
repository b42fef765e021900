// inkan CLI — running a helper program (certutil, update-ca-certificates).
//
// argv goes straight to execvp: no shell, so no path or nickname is ever
// parsed as shell syntax.
#pragma once

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

}  // namespace inkan::cli
