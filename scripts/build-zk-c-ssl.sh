#!/usr/bin/env bash
# Builds Apache ZooKeeper's own C client with OpenSSL, for the test of
# zookeeper_init_ssl (tests/compat/test_tls.py). Debian's libzookeeper-mt is
# built without OpenSSL, so this takes the same 3.8.0 sources Debian ships
# (the orig tarball, checked against the sha256 in Debian's .dsc), generates
# the jute code with the jute compiler in Debian's zookeeper-jute.jar, and
# builds the static library with cmake. Idempotent.
#   output: ${ZKC_SSL_DIR:-$HOME/.cache/zkrs-zkc-ssl}/{include,lib}
set -euo pipefail

OUT="${ZKC_SSL_DIR:-$HOME/.cache/zkrs-zkc-ssl}"
POOL=http://deb.debian.org/debian/pool/main/z/zookeeper
TARBALL=zookeeper_3.8.0.orig.tar.gz
SHA256=b0c5684640bea2d8bd6610b47ff41be2aefd6c910ba48fcad5949bd2bf2fa1ac

log() { echo "[build-zk-c-ssl] $*"; }

if [ -f "$OUT/lib/libzookeeper.a" ] && [ -f "$OUT/include/zookeeper.h" ]; then
  log "ready in $OUT"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
log "downloading $TARBALL"
curl -fsS --max-time 300 -o "$TARBALL" "$POOL/$TARBALL"
echo "$SHA256  $TARBALL" | sha256sum -c --quiet -
tar xzf "$TARBALL"
SRC="$WORK/apache-zookeeper-3.8.0"
C="$SRC/zookeeper-client/zookeeper-client-c"

mkdir -p "$C/generated"
(cd "$C/generated" && java -cp /usr/share/java/zookeeper-jute.jar \
  org.apache.jute.compiler.generated.Rcc -l c "$SRC/zookeeper-jute/src/main/resources/zookeeper.jute" >/dev/null)

# 3.8.0 calls FIPS_mode(), which OpenSSL 3 removed (later ZooKeeper releases
# dropped the call); it only chooses a log line, so it is defined as 0.
mkdir -p "$C/build"
(cd "$C/build" && cmake .. -DWANT_CPPUNIT=OFF -DWITH_CYRUS_SASL=OFF -DWITH_OPENSSL=ON \
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=-D'FIPS_mode()=0' -w" >/dev/null \
  && make -j2 zookeeper hashtable >/dev/null)

mkdir -p "$OUT/include" "$OUT/lib"
cp "$C"/include/*.h "$C"/generated/zookeeper.jute.h "$C"/build/include/config.h "$OUT/include/"
cp "$C"/build/libzookeeper.a "$C"/build/libhashtable.a "$OUT/lib/"
log "built in $OUT"
