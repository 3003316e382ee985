#!/usr/bin/env bash
# The fault suite, long version: by default 100 rounds per system with
# tickTime=2000 (ZooKeeper's default), faults of 8 ticks, zkrs then Apache
# ZooKeeper, and the side-by-side table at the end. Options (passed to
# tests/faults/faultrun.py):
#   --rounds N          fault rounds per system (default 100)
#   --tick MS           tickTime of both systems (default 2000)
#   --systems LIST      zkrs,apache (default) | zkrs | apache
#   --fault-ticks T     fault duration in ticks (default 8: longer than syncLimit=5,
#                       so that a paused or cut leader is replaced; shorter than
#                       the 20-tick session timeout)
#   --gap-ticks T       quiet time before each fault in ticks (default 2)
#   --session-ticks T   client session timeout in ticks (default 20)
#   --clients N         kazoo sessions (default 6)
#   --kinds LIST        fault kinds to cycle through (default: all 8)
#   --seed N            --out DIR
# Exit 1 when zkrs violates a correctness check. Needs root (iptables).
# ZKRS_BIN defaults to $CARGO_TARGET_DIR/debug/zkrs, else target/debug/zkrs.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export ZKRS_BIN="${ZKRS_BIN:-$TARGET/debug/zkrs}"
LIMIT="${ZK_FAULTS_TIMEOUT:-21600}"   # 6 h
# Other addresses than the short run (41.., 51..), so both can run at once
# without one's partitions hitting the other's members.
export ZKRS_FAULTS_BASE="${ZKRS_FAULTS_BASE:-61}" APACHE_FAULTS_BASE="${APACHE_FAULTS_BASE:-71}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "fault-soak: $VENV/bin/python missing; run scripts/install-test-deps.sh" >&2
  exit 2
fi
if [ ! -x "$ZKRS_BIN" ]; then
  echo "fault-soak: $ZKRS_BIN not found (cargo build -p zkrs-cli, or set ZKRS_BIN)" >&2
  exit 2
fi
BIN_COPY="$(mktemp "${TMPDIR:-/tmp}/zkrs-faults-bin.XXXXXX")"
cp "$ZKRS_BIN" "$BIN_COPY"
chmod 755 "$BIN_COPY"
export ZKRS_BIN="$BIN_COPY"
trap 'rm -f "$BIN_COPY"' EXIT

cd "$ROOT"
start=$(date +%s)
timeout -k 10 "$LIMIT" "$VENV/bin/python" tests/faults/faultrun.py \
  --rounds 100 --tick 2000 --fault-ticks 8 --gap-ticks 2 \
  --out "${FAULTS_OUT:-${TMPDIR:-/tmp}/zkrs-faults-soak}" "$@"
rc=$?
for tag in $(iptables -S INPUT 2>/dev/null | grep -o 'zkrs-test-[0-9]*' | sort -u); do
  kill -0 "${tag#zkrs-test-}" 2>/dev/null && continue
  iptables -S INPUT | grep -- "--comment $tag " | sed 's/^-A /-D /' | while read -r rule; do
    # shellcheck disable=SC2086
    iptables -w 5 $rule || true
  done
done
echo "fault-soak: exit $rc after $(( $(date +%s) - start ))s"
exit "$rc"
