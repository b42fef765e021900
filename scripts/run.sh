#!/bin/bash
# `make run`: everything up for a demo or a first try, inkand in the foreground.
#  1. pcscd with the vpcd virtual reader, if no PC/SC service runs;
#  2. inkan-vcard, the virtual card, if no physical card is present;
#  3. inkand, printing where things are and a curl line that signs a digest.
# Ctrl-C stops inkand and the virtual card started here.
# Started with sudo (as `make run` usually is, for the packages), inkand and the
# virtual card still run as the user who typed it (SUDO_UID), with their state
# in that user's home: inkand admits only connections of its own user
# (docs/security.md), so that user's browser and curl must be its peers. Only
# installing packages and starting pcscd need root.
# INKAN_VIRTUAL_PINPAD=1: pcscd also gets tools/vpinpad, a virtual reader with
# a PIN pad, and the virtual card goes into it; "typing" on its keypad is
# appending a line to a file (printed below). pcscd must not be running yet.
set -euo pipefail

BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bin"

# as_user CMD...: run CMD as the invoking user (itself when not under sudo).
# Backgrounded commands use "${run_as[@]}" CMD & instead, so that $! is CMD's own pid
# (setpriv executes CMD in its place).
run_as=()
user_name=$(id -nu)
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ]; then
    user_home=$(getent passwd "$SUDO_UID" | cut -d: -f6)
    if [ -z "$user_home" ]; then
        echo "inkan: uid $SUDO_UID (from sudo) has no home directory in the user database" >&2
        exit 1
    fi
    user_name=$(id -nu "$SUDO_UID")
    export HOME="$user_home" USER="$user_name" LOGNAME="$user_name"
    run_as=(setpriv --reuid "$SUDO_UID" --regid "${SUDO_GID:-$(id -g "$SUDO_UID")}" --init-groups --)
fi
as_user() { "${run_as[@]}" "$@"; }

STATE_HOME=${XDG_STATE_HOME:-$HOME/.local/state}
INKAN_STATE=${INKAN_STATE_DIR:-$STATE_HOME/inkan}
VCARD_STATE=${INKAN_VCARD_STATE:-$STATE_HOME/inkan-vcard}
PORT=${INKAN_PORT:-24713}
VIRTUAL_PINPAD=${INKAN_VIRTUAL_PINPAD:-0}
VPINPAD_PORT=35970
KEYPAD="$VCARD_STATE/keypad"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

say() { printf '\033[1minkan:\033[0m %s\n' "$*"; }

children=()
cleanup() {
    for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. PC/SC service.
if [ "$VIRTUAL_PINPAD" = 1 ]; then
    if pgrep -x pcscd >/dev/null; then
        say "INKAN_VIRTUAL_PINPAD=1 needs to start pcscd itself: stop the running pcscd first"
        exit 1
    fi
    conf="$VCARD_STATE/reader.conf.d"
    as_user mkdir -p "$conf"
    as_user cp /etc/reader.conf.d/* "$conf/"
    sed -e "s|@LIBPATH@|$(cd "$BUILD_DIR" && pwd)/lib/libinkan-vpinpad.so|" -e "s|/tmp/inkan-vpinpad/keypad|$KEYPAD|" \
        tools/vpinpad/inkan-vpinpad.conf | as_user tee "$conf/inkan-vpinpad" >/dev/null
    say "starting pcscd (with vpcd and the virtual PIN pad reader)"
    $SUDO pcscd --config "$conf"
    for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
elif ! pgrep -x pcscd >/dev/null; then
    say "starting pcscd (with the vpcd virtual reader)"
    $SUDO pcscd
    for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
fi

# 2. The virtual card, unless a physical card is present.
physical=$(python3 scripts/pcsc-cards.py | grep -v '^Virtual PCD\|^Inkan Virtual PinPad' || true)
if [ -n "$physical" ]; then
    say "using the card in: ${physical%%$'\t'*}"
elif pgrep -x inkan-vcard >/dev/null; then
    say "a virtual card is already running"
else
    as_user mkdir -p "$VCARD_STATE"
    say "no physical card: starting the virtual card (state $VCARD_STATE, PIN 1234, unblock code 12345678)"
    vcard_port=()
    [ "$VIRTUAL_PINPAD" = 1 ] && vcard_port=(--port "$VPINPAD_PORT")
    "${run_as[@]}" "$BIN/inkan-vcard" --state "$VCARD_STATE" --log "$VCARD_STATE/apdu.log" "${vcard_port[@]}" &
    children+=($!)
fi

# 3. inkand, as the user (above).
as_user mkdir -p "$INKAN_STATE"
LOG="$INKAN_STATE/inkand.log"
as_user sh -c ': > "$1"' sh "$LOG"  # the user's file; tee below only appends
INKAN_STATE_DIR="$INKAN_STATE" "${run_as[@]}" "$BIN/inkand" --port "$PORT" > >(tee -a "$LOG") 2>&1 &
inkand_pid=$!
children+=("$inkand_pid")
for _ in $(seq 200); do
    grep -q "inkand ready" "$LOG" && break
    kill -0 "$inkand_pid" 2>/dev/null || { say "inkand exited; see above"; exit 1; }
    sleep 0.1
done

TOKEN_FILE="$INKAN_STATE/token"
CA="$INKAN_STATE/tls/ca.pem"
URL="https://127.0.0.1:$PORT/v1"
auth=(--cacert "$CA" -H "Authorization: Bearer $(as_user cat "$TOKEN_FILE")")
card_id=""
for _ in $(seq 100); do
    card_id=$(as_user curl -sf "${auth[@]}" "$URL/cards" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cards"]; print(c[0]["id"] if c else "")' || true)
    [ -n "$card_id" ] && break
    sleep 0.1
done
digest=$(printf 'hello inkan' | openssl dgst -sha256 -binary | base64)

echo
say "inkand is serving $URL to $user_name's programs only"
say "API token:  $TOKEN_FILE"
say "local CA:   $CA"
say "console:    open it, logged in (--print only prints its one-time address), with"
echo "  $BIN/inkan --state-dir $INKAN_STATE --port $PORT console"
if [ -n "$card_id" ]; then
    say "card:       $card_id — sign SHA-256(\"hello inkan\") with:"
    echo
    echo "curl --cacert $CA -H \"Authorization: Bearer \$(cat $TOKEN_FILE)\" -H 'Content-Type: application/json' -H 'Inkan-Client: curl' -d '{\"digest\":\"$digest\",\"digestAlgorithm\":\"SHA-256\",\"pin\":\"1234\"}' $URL/cards/$card_id/sign"
    echo
    say "check it: save .signature and .certificate (base64 -d) as sig.bin and cert.der, then"
    echo "  printf 'hello inkan' | openssl dgst -sha256 -binary > digest.bin && openssl x509 -inform DER -in cert.der -out cert.pem && openssl pkeyutl -verify -certin -inkey cert.pem -in digest.bin -sigfile sig.bin -pkeyopt digest:sha256"
else
    say "no card is listed yet; insert one and see $URL/cards"
fi
if [ "$VIRTUAL_PINPAD" = 1 ]; then
    say "the card is in the virtual PIN pad reader; to type on its keypad (then OK): echo 1234 >> $KEYPAD"
    say "  (CANCEL or TIMEOUT on a line press Cancel or let it time out); allow a page with \"pinSource\": \"pinpad\""
fi
say "Ctrl-C stops inkand"
wait "$inkand_pid"
