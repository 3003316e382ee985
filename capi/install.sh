#!/usr/bin/env bash
# Installs libzkrs: include/zkrs.h, libzkrs.so.<version> with its SONAME
# link (libzkrs.so.0.<minor>) and the libzkrs.so link, libzkrs.a, and a
# zkrs.pc for pkg-config, under PREFIX.
#   capi/install.sh PREFIX [BUILD_DIR]
# BUILD_DIR holds the built libraries (default: a release build made now,
# in ${CARGO_TARGET_DIR:-target}/release).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 PREFIX [BUILD_DIR]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
PREFIX="$(cd "$1" && pwd)"
if [ $# -ge 2 ]; then
  BUILD="$2"
else
  (cd "$ROOT" && cargo build --release -p zkrs-capi)
  BUILD="${CARGO_TARGET_DIR:-$ROOT/target}/release"
fi
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)"

install -d "$PREFIX/include" "$PREFIX/lib/pkgconfig"
install -m 644 "$ROOT/include/zkrs.h" "$PREFIX/include/zkrs.h"
# The real file carries the full version; the SONAME link is what programs
# load, the bare name what -lzkrs finds when linking.
SONAME="$(bash "$ROOT/capi/soname.sh" "$BUILD")"
install -m 755 "$BUILD/libzkrs.so" "$PREFIX/lib/libzkrs.so.$VERSION"
ln -sf "libzkrs.so.$VERSION" "$PREFIX/lib/$SONAME"
ln -sf "$SONAME" "$PREFIX/lib/libzkrs.so"
install -m 644 "$BUILD/libzkrs.a" "$PREFIX/lib/libzkrs.a"
# Libs.private: what a static link of libzkrs.a also needs.
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" \
    -e "s|@LIBS_PRIVATE@|-lpthread -ldl -lm|" \
    "$ROOT/capi/zkrs.pc.in" >"$PREFIX/lib/pkgconfig/zkrs.pc"
echo "installed libzkrs $VERSION under $PREFIX"
