#!/bin/sh
# Fuzz inkan's parsers of outside input with libFuzzer (clang): a card's answers
# through the reference card profile, certificates and registry extensions,
# RFC 3339 times, web origins, pinentry's Assuan answers, PC/SC part 10
# feature lists, and Linux's socket tables that tell whose connection it is
# (tests/fuzz/fuzz_*.cpp).
#   scripts/fuzz.sh [BUILD_DIR]     FUZZ_SECONDS=60 per target (default)
# Each target starts from its seeds (tests/fuzz/seeds/NAME) and keeps what it
# finds in BUILD_DIR/fuzz/corpus-NAME across runs; a crash leaves its input in
# BUILD_DIR/fuzz and the script fails. Run on demand, not part of `make test`
# (which replays the seeds: ctest fuzz.replay.*).
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD_DIR=$(mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
OUT="$BUILD_DIR/fuzz"
mkdir -p "$OUT"

# clang with its libFuzzer and sanitizer runtimes.
./scripts/install-deps.sh clang libclang-rt-14-dev
FLAGS="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I."
PCSC_CFLAGS=$(pkg-config --cflags libpcsclite)

build() {  # NAME SOURCES... -- LIBS...
    name=$1; shift
    echo "fuzz: building fuzz_$name"
    # shellcheck disable=SC2086
    clang++ $FLAGS $PCSC_CFLAGS "$@" -o "$OUT/fuzz_$name"
}

build card tests/fuzz/fuzz_card.cpp daemon/card/*.cpp daemon/pcsc/apdu.cpp daemon/pcsc/apdu_channel.cpp \
    daemon/pcsc/pinpad.cpp daemon/error.cpp -lcrypto
build cert tests/fuzz/fuzz_cert.cpp daemon/cert/*.cpp daemon/error.cpp -lssl -lcrypto
build rfc3339 tests/fuzz/fuzz_rfc3339.cpp daemon/service/rfc3339.cpp
build security tests/fuzz/fuzz_security.cpp daemon/security/origin.cpp daemon/security/assuan.cpp \
    daemon/pcsc/pinpad.cpp -lassuan -lgpg-error -lcrypto
build proc_net_tcp tests/fuzz/fuzz_proc_net_tcp.cpp daemon/platform/proc_net_tcp.cpp
# shellcheck disable=SC2046
build egov tests/fuzz/fuzz_egov.cpp daemon/formats/egov_document.cpp daemon/formats/document.cpp daemon/error.cpp \
    $(pkg-config --cflags --libs libxml-2.0) -lcrypto
# shellcheck disable=SC2046
build pdf tests/fuzz/fuzz_pdf.cpp daemon/formats/pdf_document.cpp daemon/formats/pdf_incremental.cpp \
    daemon/formats/cms_signed_data.cpp daemon/formats/document.cpp daemon/cert/*.cpp daemon/error.cpp \
    -DPOINTERHOLDER_TRANSITION=4 $(pkg-config --cflags --libs libqpdf) -lssl -lcrypto

for name in card cert rfc3339 security proc_net_tcp egov pdf; do
    corpus="$OUT/corpus-$name"
    mkdir -p "$corpus"
    echo "fuzz: fuzz_$name for ${SECONDS_PER_TARGET}s"
    if (cd "$OUT" && "./fuzz_$name" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
            "$corpus" "$REPO/tests/fuzz/seeds/$name" > "$OUT/fuzz_$name.log" 2>&1); then
        grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$OUT/fuzz_$name.log" || true
    else
        tail -n 40 "$OUT/fuzz_$name.log" >&2
        echo "fuzz: fuzz_$name failed; the crashing input is in $OUT, the log in $OUT/fuzz_$name.log" >&2
        exit 1
    fi
done
echo "fuzz: no crash"
