#!/usr/bin/env bash
# Runs the ZooKeeper compatibility suite (tests/compat) against one server:
#   ZK_SERVER=zkrs   (default) $ZKRS_BIN server --config zoo.cfg
#                    (ZKRS_BIN defaults to target/debug/zkrs)
#   ZK_SERVER=apache Apache ZooKeeper 3.8 from Debian's `zookeeper` package
# Extra arguments go to pytest (e.g. -k watches, -x).
# Needs scripts/install-test-deps.sh to have run once.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
export ZK_SERVER="${ZK_SERVER:-zkrs}"
LIMIT="${ZK_COMPAT_TIMEOUT:-600}"   # seconds for the whole run

if [ ! -x "$VENV/bin/pytest" ]; then
  echo "compat-tests: $VENV/bin/pytest missing; run scripts/install-test-deps.sh" >&2
  exit 2
fi
if [ "$ZK_SERVER" = zkrs ]; then
  export ZKRS_BIN="${ZKRS_BIN:-$ROOT/target/debug/zkrs}"
  if [ ! -x "$ZKRS_BIN" ]; then
    echo "compat-tests: $ZKRS_BIN not found (cargo build -p zkrs-cli, or set ZKRS_BIN)" >&2
    exit 2
  fi
fi

echo "compat-tests: ZK_SERVER=$ZK_SERVER (limit ${LIMIT}s)"
cd "$ROOT"
# -k SIGTERM then SIGKILL 10 s later: pytest's fixtures kill the servers they
# started; a server left by a killed run dies with its process group.
timeout -k 10 "$LIMIT" "$VENV/bin/pytest" tests/compat -q -p no:cacheprovider "$@" 2>&1 \
  | tee "${TMPDIR:-/tmp}/zkrs-compat-$ZK_SERVER.log"
rc=${PIPESTATUS[0]}
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "compat-tests: timed out after ${LIMIT}s"
fi
exit "$rc"
