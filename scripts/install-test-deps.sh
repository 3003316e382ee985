#!/usr/bin/env bash
# Installs what the compatibility tests (tests/compat/) need. Idempotent,
# non-interactive, starts no daemon:
#   - Debian `zookeeper` (Apache ZooKeeper 3.8 server jars + zkCli; NOT
#     `zookeeperd`, which would start a system service)
#   - libzookeeper-mt-dev (the official C client) and gcc
#   - the same C client built with OpenSSL (scripts/build-zk-c-ssl.sh: cmake,
#     libssl-dev), for zookeeper_init_ssl
#   - faketime (libfaketime: a member whose wall clock is off, tests/ensemble)
#   - a Python virtualenv (.venv in the repo root, or $ZKRS_VENV) with kazoo+pytest
#   - node-zookeeper-client via `npm ci` in tests/compat/node
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
export DEBIAN_FRONTEND=noninteractive

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

log() { echo "[install-test-deps] $*"; }

# ---- Debian packages -------------------------------------------------------
need_pkgs=()
for p in zookeeper libzookeeper-mt-dev gcc libc6-dev default-jre-headless python3-venv faketime openssl cmake libssl-dev curl libservlet-api-java tmux; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    need_pkgs+=("$p")
  fi
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "apt: installing ${need_pkgs[*]}"
  # Keep maintainer scripts from starting any service while we install.
  POLICY=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && $SUDO rm -f "$POLICY"' EXIT
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
  if [ "$created_policy" = 1 ]; then $SUDO rm -f "$POLICY"; created_policy=0; fi
else
  log "apt: all packages already installed"
fi

if dpkg-query -W -f='${Status}' zookeeperd 2>/dev/null | grep -q "install ok installed"; then
  log "WARNING: zookeeperd is installed; it runs a system ZooKeeper on :2181 (tests use free ports, but consider removing it)"
fi

# Jars the tests put on the classpath: zookeeper.jar (its manifest names most
# dependencies) plus the ones its manifest misses.
for j in zookeeper netty-codec netty-resolver netty-transport-native-unix-common \
         slf4j-log4j12 log4j-1.2 servlet-api; do
  if [ ! -e /usr/share/java/"$j".jar ]; then
    echo "[install-test-deps] ERROR: /usr/share/java/$j.jar missing after installing zookeeper" >&2
    exit 1
  fi
done

bash "$ROOT/scripts/build-zk-c-ssl.sh"

# ---- Python virtualenv -----------------------------------------------------
PYREQ="kazoo==2.11.0 pytest==8.4.2 pytest-timeout==2.4.0 pure-sasl==0.6.2"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import kazoo, pytest, pytest_timeout, puresasl' 2>/dev/null; then
  log "venv: $VENV ready"
else
  log "venv: creating $VENV"
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY="$(command -v python3)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check $PYREQ
fi

# ---- kazoo's whole bundled suite ---------------------------------------------
# Its harness needs kazoo's `test` extra (pyopenssl, pyjks, objgraph, gevent,
# eventlet) with a pyopenssl before 24.3 (it calls X509.add_extensions), and
# pure-sasl for the SASL tests; a venv of its own keeps them apart.
KVENV="${KAZOO_SUITE_VENV:-$ROOT/.venv-kazoo-suite}"
KREQ=("kazoo[test]==2.11.0" "pyopenssl<24.3" "pure-sasl==0.6.2" "pytest-timeout==2.4.0")
if [ -x "$KVENV/bin/python" ] && "$KVENV/bin/python" -c 'import kazoo, jks, objgraph, OpenSSL, puresasl, pytest_timeout, gevent, eventlet' 2>/dev/null; then
  log "kazoo suite venv: $KVENV ready"
else
  log "kazoo suite venv: creating $KVENV"
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY="$(command -v python3)"
  "$PY" -m venv "$KVENV"
  "$KVENV/bin/pip" install -q --disable-pip-version-check "${KREQ[@]}"
fi

# ---- node-zookeeper-client -------------------------------------------------
NODE_DIR="$ROOT/tests/compat/node"
if [ -d "$NODE_DIR/node_modules/node-zookeeper-client" ]; then
  log "npm: node-zookeeper-client already installed"
else
  log "npm: installing in $NODE_DIR"
  if [ -f "$NODE_DIR/package-lock.json" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

if pgrep -f "org.apache.zookeeper.server.quorum.QuorumPeerMain" >/dev/null 2>&1; then
  log "WARNING: a system ZooKeeper (QuorumPeerMain) is running; this script did not start it"
fi
log "done"
