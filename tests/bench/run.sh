#!/bin/sh
# Run the benchmarks against a build: tests/bench/run.sh [BUILD_DIR]
#   bench_inkand.py      latency, idle CPU, memory, signatures
#   bench_throughput.py  listings' requests/s beside nginx serving the same bytes (wrk)
set -eu
BUILD_DIR=$(cd "${1:-build}" && pwd)
HERE=$(dirname "$0")
export INKAN_BIN_DIR="$BUILD_DIR/bin" INKAN_BUILD_DIR="$BUILD_DIR"
python3 "$HERE/bench_inkand.py"
python3 "$HERE/bench_throughput.py"
