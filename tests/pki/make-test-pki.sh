#!/usr/bin/env bash
# inkan — build the test PKI used by the certificate tests.
#
# Usage: make-test-pki.sh DIR OCSP_PORT CRL_PORT
#
# Creates in DIR (which must not exist or be empty):
#   root.pem                 self-signed root shaped like the registry's (test names)
#   intermediate.pem         issuing CA (signs leaves, OCSP signers, the CRL)
#   other-ca.pem             an unrelated self-signed CA (not trusted)
#   trust/                   anchors directory: root.pem (anchor) + intermediate.pem
#   leaves/NAME.{pem,der}    good, revoked, hold, expired, notyet, unknown-critical,
#                            unknown-issuer, jpki
#   ocsp/{signer,no-eku,other-ca}.pem  responder certs (authorized, no EKU, wrong CA)
#   private/*.key            all private keys
#   ca/index.txt             issuing CA database (serve with `openssl ocsp -index`)
#   root-ca/                 the root's database (it issued itself and the issuing CA)
#   www/intermediate.crl     DER CRL (serve DIR/www on CRL_PORT)
#   www/intermediate.cer     DER issuing CA (AIA caIssuers)
# Leaves point to http://127.0.0.1:OCSP_PORT/ (AIA OCSP) and
# http://127.0.0.1:CRL_PORT/intermediate.crl (CDP).
#
# Serve them, for example:
#   openssl ocsp -index DIR/ca/index.txt -port OCSP_PORT -CA DIR/intermediate.pem \
#       -rsigner DIR/ocsp/signer.pem -rkey DIR/private/ocsp-signer.key -ndays 1
#   python3 -m http.server CRL_PORT --bind 127.0.0.1 --directory DIR/www
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 DIR OCSP_PORT CRL_PORT" >&2
    exit 2
fi
for port in "$2" "$3"; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
        echo "$0: not a port: $port" >&2
        exit 2
    fi
done

umask 077
mkdir -p "$1"
if [[ -n "$(ls -A "$1")" ]]; then
    echo "$0: $1 is not empty" >&2
    exit 2
fi

export PKI_DIR
PKI_DIR="$(cd "$1" && pwd)"
export OCSP_URL="http://127.0.0.1:$2/"
export CRL_URL="http://127.0.0.1:$3/intermediate.crl"
export CA_ISSUERS_URL="http://127.0.0.1:$3/intermediate.cer"
export OPENSSL_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/openssl.cnf"

D="$PKI_DIR"
mkdir -p "$D/private" "$D/trust" "$D/leaves" "$D/ocsp" "$D/www" "$D/ca/newcerts" "$D/root-ca/newcerts" "$D/csr"
touch "$D/ca/index.txt" "$D/root-ca/index.txt"
echo 01 > "$D/root-ca/serial"
echo 1000 > "$D/ca/serial"
echo 01 > "$D/ca/crlnumber"

# openssl's progress chatter goes to a log, shown only when a step fails.
LOG="$D/make-test-pki.log"
exec 3>&2 2>>"$LOG"
trap 'echo "$0: failed; openssl said:" >&3; tail -n 20 "$LOG" >&3' ERR

when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

newkey() {  # newkey NAME: RSA-2048, the registry's key type
    openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/private/$1.key"
}

csr() {  # csr NAME SUBJECT
    newkey "$1"
    openssl req -new -utf8 -key "$D/private/$1.key" -subj "$2" -out "$D/csr/$1.csr"
}

# sign_by CA NAME EXTENSIONS DAYS SERIAL OUT: a CA-issued cert outside the issuing database.
sign_by() {
    openssl x509 -req -in "$D/csr/$2.csr" -CA "$D/$1.pem" -CAkey "$D/private/$1.key" \
        -sha256 -days "$4" -set_serial "$5" -extfile "$OPENSSL_CONF" -extensions "$3" \
        -out "$6"
}

# issue NAME SUBJECT EXTENSIONS START END: a leaf recorded in the issuing CA database.
issue() {
    csr "$1" "$2"
    openssl ca -batch -notext -utf8 -in "$D/csr/$1.csr" -extensions "$3" \
        -startdate "$4" -enddate "$5" -out "$D/leaves/$1.pem"
    openssl x509 -in "$D/leaves/$1.pem" -outform DER -out "$D/leaves/$1.der"
}

# --- CAs ---------------------------------------------------------------------
# Valid from ten years back, like a long-lived government root, so "as of"
# checks in the past find the CAs valid.
ca_start="$(when '-3650 days')"
ca_end="$(when '+3650 days')"
root_dn="/C=JP/O=inkan Test Government/OU=Ministry of Justice Test/CN=Registrar of Tokyo Legal Affairs Bureau Test"
csr root "$root_dn"
openssl ca -batch -notext -utf8 -name root_ca -selfsign -keyfile "$D/private/root.key" \
    -in "$D/csr/root.csr" -extensions v3_root -startdate "$ca_start" -enddate "$ca_end" \
    -out "$D/root.pem"

csr intermediate "$root_dn Issuing CA"
openssl ca -batch -notext -utf8 -name root_ca -in "$D/csr/intermediate.csr" -extensions v3_intermediate \
    -startdate "$ca_start" -enddate "$ca_end" -out "$D/intermediate.pem"

newkey other-ca
openssl req -x509 -new -utf8 -sha256 -days 3650 -key "$D/private/other-ca.key" \
    -subj "/C=JP/O=inkan Test Elsewhere/CN=Unrelated Test CA" -extensions v3_root \
    -out "$D/other-ca.pem"

cp "$D/root.pem" "$D/trust/root.pem"
cp "$D/intermediate.pem" "$D/trust/intermediate.pem"
openssl x509 -in "$D/intermediate.pem" -outform DER -out "$D/www/intermediate.cer"

# --- OCSP responders ---------------------------------------------------------
csr ocsp-signer "/C=JP/O=inkan Test Government/CN=Test OCSP Responder"
sign_by intermediate ocsp-signer v3_ocsp_signer 365 0x0201 "$D/ocsp/signer.pem"
csr ocsp-no-eku "/C=JP/O=inkan Test Government/CN=Test OCSP Responder Without EKU"
sign_by intermediate ocsp-no-eku v3_ocsp_no_eku 365 0x0202 "$D/ocsp/no-eku.pem"
csr ocsp-other-ca "/C=JP/O=inkan Test Elsewhere/CN=Test OCSP Responder Of Another CA"
sign_by other-ca ocsp-other-ca v3_ocsp_signer 365 0x0203 "$D/ocsp/other-ca.pem"

# --- Leaves ------------------------------------------------------------------
now_minus_1d="$(when '-1 day')"
in_1y="$(when '+365 days')"
subject() { echo "/C=JP/O=株式会社印鑑試験/CN=印鑑 太郎 $1"; }

issue good "$(subject 有効)" v3_leaf "$now_minus_1d" "$in_1y"
issue revoked "$(subject 失効)" v3_leaf "$now_minus_1d" "$in_1y"
issue hold "$(subject 休止)" v3_leaf "$now_minus_1d" "$in_1y"
issue expired "$(subject 期限切れ)" v3_leaf "$(when '-400 days')" "$(when '-30 days')"
issue notyet "$(subject 未発効)" v3_leaf "$(when '+30 days')" "$(when '+400 days')"
issue unknown-critical "$(subject 未知の重要拡張)" v3_leaf_unknown_critical "$now_minus_1d" "$in_1y"
issue jpki "/C=JP/CN=JPKI-style Test Signer" v3_leaf_jpki "$now_minus_1d" "$in_1y"

csr unknown-issuer "$(subject 発行者不明)"
sign_by other-ca unknown-issuer v3_leaf 365 0x0301 "$D/leaves/unknown-issuer.pem"
openssl x509 -in "$D/leaves/unknown-issuer.pem" -outform DER -out "$D/leaves/unknown-issuer.der"

# --- Revocation state ----------------------------------------------------------
openssl ca -batch -revoke "$D/leaves/revoked.pem" -crl_reason keyCompromise
openssl ca -batch -revoke "$D/leaves/hold.pem" -crl_hold holdInstructionReject
openssl ca -batch -gencrl -crldays 1 -out "$D/csr/intermediate.crl.pem"  # csr/ is scratch space
openssl crl -in "$D/csr/intermediate.crl.pem" -outform DER -out "$D/www/intermediate.crl"

# Public material readable by the servers the tests start; keys stay 0600.
chmod -R go+rX "$D/root.pem" "$D/intermediate.pem" "$D/other-ca.pem" "$D/trust" "$D/leaves" "$D/ocsp" "$D/www"
rm -rf "$D/csr"
