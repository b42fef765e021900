#!/bin/sh
# `make deb`: the Debian package of the tree that `make build` compiled, with
# debian/ and dpkg-buildpackage (debian/rules explains the two build modes),
# then lintian, which must report no error and no warning.
#   scripts/make-deb.sh [BUILD_DIR]   -> BUILD_DIR/deb/inkan_VERSION_ARCH.deb
# The package is put together in BUILD_DIR/deb/, never next to the source tree.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
OUT="$BUILD/deb"
STAGE="$OUT/inkan-$VERSION"

rm -rf "$OUT"
mkdir -p "$STAGE"
cp -r "$SRC/debian" "$STAGE/debian"
cd "$STAGE"
# noddebs: no separate debug-symbol package; the build tree keeps the symbols.
INKAN_BUILD_DIR="$BUILD" DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -us -uc >"$OUT/dpkg-buildpackage.log" 2>&1 || {
    tail -40 "$OUT/dpkg-buildpackage.log" >&2
    echo "inkan: dpkg-buildpackage failed; the whole log is $OUT/dpkg-buildpackage.log" >&2
    exit 1
}
DEB="$OUT/inkan_${VERSION}_${ARCH}.deb"
lintian --fail-on error,warning --info "$DEB"
echo "inkan: built $DEB"
