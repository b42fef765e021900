#!/bin/sh
# Run the benchmarks against a build: tests/bench/run.sh [BUILD_DIR]
set -eu
BUILD_DIR=$(cd "${1:-build}" && pwd)
INKAN_BIN_DIR="$BUILD_DIR/bin" INKAN_BUILD_DIR="$BUILD_DIR" python3 "$(dirname "$0")/bench_inkand.py"
