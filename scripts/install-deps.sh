#!/bin/sh
# Install the Debian 12 packages inkan needs to build, run and test, if missing,
# and any packages named as arguments (e.g. scripts/fuzz.sh's clang).
# Idempotent and quiet when everything is there. Run as root or with sudo.
# Service and package (docs/service.md): libsystemd-dev (sd_notify, journal);
# systemd for systemd-socket-activate and systemd-analyze in the tests;
# help2man (man pages); debhelper, dpkg-dev, lintian (`make deb`).
# The pdf format (docs/formats.md): libqpdf-dev to build; qpdf and poppler-utils
# (pdfsig) check its results in the tests; libtasn1-doc and bzip2-doc ship the
# PDFs not made by inkan that tests/integration/test_pdf.py signs.
# libassuan-dev: inkand's side of the pinentry conversation (daemon/security/assuan.cpp).
set -eu

PACKAGES="cmake ninja-build g++ build-essential pkg-config ccache make
libboost1.81-dev libboost-url1.81-dev libssl-dev libcurl4-openssl-dev libnss3-tools libpcsclite-dev nlohmann-json3-dev doctest-dev libcli11-dev libxml2-dev libassuan-dev
pcscd vsmartcard-vpcd opensc opensc-pkcs11 openssl curl python3 python3-yaml python3-jsonschema procps libnss3-tools chromium fonts-ipafont-gothic pinentry-tty faketime nginx-light wrk
libsystemd-dev systemd help2man bash-completion debhelper dpkg-dev lintian
libxml2-utils python3-lxml
libqpdf-dev qpdf poppler-utils libtasn1-doc bzip2-doc
softhsm2 libp11-kit-dev
$*"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# Node.js for the browser SDK (the console embedded in inkand imports it, so
# inkand's build needs it) and the browser tests: any installed node will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"

[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "inkan: missing packages:$missing — run as root or install sudo" >&2
        exit 1
    fi
fi

echo "inkan: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
