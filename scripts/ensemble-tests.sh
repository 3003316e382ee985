#!/usr/bin/env bash
# Runs the ensemble suite (tests/ensemble): zkrs members as separate
# processes on 127.0.0.x loopback addresses, partitions with iptables.
#   tests/ensemble/test_*.py   failover, partitions, quorum, observers, snapshots
#   tests/ensemble/compat/     the kazoo compatibility tests of tests/compat
#                              against a 3-member ensemble (ZK_SERVER=zkrs-ensemble;
#                              ZK_ENSEMBLE_CONNECT=follower|leader|all, default follower)
# ZKRS_BIN defaults to target/debug/zkrs. Extra arguments go to pytest.
# Needs scripts/install-test-deps.sh to have run once, and root (iptables).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
LIMIT="${ZK_ENSEMBLE_TIMEOUT:-900}"   # seconds for the whole run
export ZKRS_BIN="${ZKRS_BIN:-$ROOT/target/debug/zkrs}"
export ZK_SERVER=zkrs-ensemble

if [ ! -x "$VENV/bin/pytest" ]; then
  echo "ensemble-tests: $VENV/bin/pytest missing; run scripts/install-test-deps.sh" >&2
  exit 2
fi
if [ ! -x "$ZKRS_BIN" ]; then
  echo "ensemble-tests: $ZKRS_BIN not found (cargo build -p zkrs-cli, or set ZKRS_BIN)" >&2
  exit 2
fi
if ! command -v iptables >/dev/null 2>&1; then
  echo "ensemble-tests: installing iptables (partition tests)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iptables >/dev/null 2>&1 \
    || echo "ensemble-tests: could not install iptables; partition tests will be skipped"
fi

# A private copy of the binary: a shared cargo target dir may be rebuilt by
# someone else while the suite runs.
BIN_COPY="$(mktemp "${TMPDIR:-/tmp}/zkrs-ens-bin.XXXXXX")"
cp "$ZKRS_BIN" "$BIN_COPY"
chmod 755 "$BIN_COPY"
export ZKRS_BIN="$BIN_COPY"
trap 'rm -f "$BIN_COPY"' EXIT

echo "ensemble-tests: ZKRS_BIN=$ZKRS_BIN (limit ${LIMIT}s)"
cd "$ROOT"
# pytest deletes the iptables rules it tagged (zkrs-test-<pid>) and kills the
# members it started; timeout -k covers a hung run.
timeout -k 10 "$LIMIT" "$VENV/bin/pytest" -c tests/ensemble/pytest.ini --rootdir tests/ensemble \
  tests/ensemble -q -p no:cacheprovider "$@" 2>&1 | tee "${TMPDIR:-/tmp}/zkrs-ensemble.log"
rc=${PIPESTATUS[0]}
# Rules of a run that was killed before its finalizer: tags whose pid is gone.
if command -v iptables >/dev/null 2>&1; then
  for tag in $(iptables -S INPUT 2>/dev/null | grep -o 'zkrs-test-[0-9]*' | sort -u); do
    kill -0 "${tag#zkrs-test-}" 2>/dev/null && continue
    iptables -S INPUT | grep -- "--comment $tag " | sed 's/^-A /-D /' | while read -r rule; do
      # shellcheck disable=SC2086
      iptables -w 5 $rule || true
    done
  done
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "ensemble-tests: timed out after ${LIMIT}s"
fi
exit "$rc"
