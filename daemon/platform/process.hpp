// inkan — process-wide settings that differ by operating system, made once at
// the start of main(). process_posix.cpp implements them for POSIX systems; a
// Windows build adds its own file (docs/windows.md "Where the code changes").
#pragma once

namespace inkan::platform {

/// Writes to a connection the peer has closed must surface as errors, not end
/// the process (POSIX: SIGPIPE is ignored).
void ignoreBrokenPipes();

}  // namespace inkan::platform
