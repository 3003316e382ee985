#!/usr/bin/env bash
# The C ABI's tests: builds libzkrs, then
#   1. the header drift test (include/zkrs.h == cbindgen output);
#   2. capi/tests/c/test_capi.c linked against libzkrs.so, run under
#      valgrind memcheck (zero errors, zero definite leaks), and the same
#      program linked statically against libzkrs.a, run plainly;
#   3. a C++ translation unit including zkrs.h and the official
#      <zookeeper/zookeeper.h> together, compiled with g++;
#   4. examples/c/config_watcher.c built against an installed copy
#      (capi/install.sh + pkg-config) and run; it must record libzkrs's
#      SONAME, not the bare libzkrs.so.
# Installs valgrind, g++ and pkg-config when missing. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LIBDIR="$TARGET/debug"
OUT="$TARGET/capi-tests"
mkdir -p "$OUT"

step() { printf '\n== capi: %s\n' "$*"; }

need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v g++ >/dev/null || need+=(g++)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/zookeeper/zookeeper.h ] || need+=(libzookeeper-mt-dev)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

step "building libzkrs"
cargo build -p zkrs-capi
ls -l "$LIBDIR/libzkrs.so" "$LIBDIR/libzkrs.a"
# The library names its ABI version; programs linked here find it by that
# name (the cross-language tests link against this directory too).
echo "SONAME $(bash capi/soname.sh --link "$LIBDIR")"

step "header drift test"
cargo test -p zkrs-capi --test header_drift

CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude -pthread)

step "C test program under valgrind"
gcc "${CFLAGS[@]}" capi/tests/c/test_capi.c -o "$OUT/test_capi" \
  -L"$LIBDIR" -lzkrs -Wl,-rpath,"$LIBDIR"
valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --track-origins=yes --quiet \
  --suppressions=capi/tests/c/valgrind.supp \
  "$OUT/test_capi"

step "C test program linked statically"
gcc "${CFLAGS[@]}" capi/tests/c/test_capi.c -o "$OUT/test_capi_static" \
  "$LIBDIR/libzkrs.a" -lm -ldl
"$OUT/test_capi_static"

step "C++: zkrs.h together with the official zookeeper.h"
g++ -std=c++17 -Wall -Wextra -Werror -Iinclude -c capi/tests/c/cxx_include.cpp \
  -o "$OUT/cxx_include.o"
g++ "$OUT/cxx_include.o" -o "$OUT/cxx_include" -L"$LIBDIR" -lzkrs -Wl,-rpath,"$LIBDIR"
"$OUT/cxx_include"

step "install to a prefix; build examples/c/config_watcher.c with pkg-config"
PREFIX="$OUT/prefix"
rm -rf "$PREFIX"
bash capi/install.sh "$PREFIX" "$LIBDIR"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror examples/c/config_watcher.c -o "$OUT/config_watcher" \
  $(pkg-config --cflags --libs zkrs) -Wl,-rpath,"$PREFIX/lib"
SONAME="$(bash capi/soname.sh "$PREFIX/lib")"
readelf -d "$OUT/config_watcher" | grep -q "Shared library: \[$SONAME\]" || {
  echo "config_watcher does not record libzkrs's SONAME $SONAME" >&2
  exit 1
}
"$OUT/config_watcher"
