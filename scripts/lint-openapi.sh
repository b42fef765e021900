#!/bin/sh
# openapi.yaml against both linters the contract promises to pass, with nothing
# relaxed: Spectral's spectral:oas ruleset (.spectral.yaml; warnings fail too)
# and Redocly's recommended rules as errors (redocly.yaml: recommended-strict).
# Both come from the root package.json's devDependencies (npm ci, `make build`).
#
# Exit 0 when both report nothing; 1 on any finding; 77 (ctest's skip) when the
# linters are not installed, except under CI=true, where that is a broken set-up.
set -eu
cd "$(dirname "$0")/.."

SKIPPED=77
bin=node_modules/.bin
if [ ! -x "$bin/spectral" ] || [ ! -x "$bin/redocly" ] || ! command -v node >/dev/null 2>&1; then
    echo "lint-openapi: node or the npm devDependencies are missing (run npm ci)" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit $SKIPPED
fi

echo "node $(node --version)"
status=0
# Redocly asks for usage statistics unless told not to; nothing leaves the machine.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$bin/redocly" lint --format=stylish openapi.yaml || status=1
"$bin/spectral" lint --fail-severity=hint --ruleset .spectral.yaml openapi.yaml || status=1
[ $status -eq 0 ] && echo "openapi.yaml: spectral:oas and redocly recommended report nothing"
exit $status
