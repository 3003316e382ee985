#!/usr/bin/env bash
# The fault suite (tests/faults), short version for CI:
#   1. the checker's unit tests (tests/faults/test_checker.py);
#   2. FAULTS_ROUNDS (default 16) fault rounds against a 3-member zkrs
#      ensemble, then the same against a 3-member Apache ZooKeeper 3.8
#      ensemble (Debian's zookeeper package), tickTime 200 ms, 6 kazoo
#      clients, histories checked for linearizability, lost/duplicated
#      data and monotonic reads; a side-by-side table at the end.
# Fails when zkrs violates a correctness check. Availability assertions
# (sessions expired, unknown outcomes, recovery) only with
# ZKRS_FAULTS_STRICT=1 (see tests/faults/test_faults.py for the knobs).
# ZKRS_BIN defaults to $CARGO_TARGET_DIR/debug/zkrs, else target/debug/zkrs.
# Needs scripts/install-test-deps.sh to have run once, and root (iptables).
# Results: $FAULTS_OUT (default ${TMPDIR:-/tmp}/zkrs-faults): faults-<system>.json,
# summary.txt; member logs and the history are kept there when a check fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
LIMIT="${ZK_FAULTS_TIMEOUT:-900}"   # seconds for the whole run
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export ZKRS_BIN="${ZKRS_BIN:-$TARGET/debug/zkrs}"
export FAULTS_OUT="${FAULTS_OUT:-${TMPDIR:-/tmp}/zkrs-faults}"

if [ ! -x "$VENV/bin/pytest" ]; then
  echo "fault-tests: $VENV/bin/pytest missing; run scripts/install-test-deps.sh" >&2
  exit 2
fi
if [ ! -x "$ZKRS_BIN" ]; then
  echo "fault-tests: $ZKRS_BIN not found (cargo build -p zkrs-cli, or set ZKRS_BIN)" >&2
  exit 2
fi
if ! command -v iptables >/dev/null 2>&1; then
  echo "fault-tests: installing iptables (partitions)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iptables >/dev/null 2>&1 \
    || { echo "fault-tests: could not install iptables" >&2; exit 2; }
fi

# A private copy of the binary: a shared cargo target dir may be rebuilt by
# someone else while the suite runs.
BIN_COPY="$(mktemp "${TMPDIR:-/tmp}/zkrs-faults-bin.XXXXXX")"
cp "$ZKRS_BIN" "$BIN_COPY"
chmod 755 "$BIN_COPY"
export ZKRS_BIN="$BIN_COPY"
trap 'rm -f "$BIN_COPY"' EXIT

echo "fault-tests: ZKRS_BIN=$ZKRS_BIN out=$FAULTS_OUT (limit ${LIMIT}s)"
cd "$ROOT"
start=$(date +%s)
# pytest deletes the iptables rules it tagged (zkrs-test-<pid>) and kills the
# members it started; timeout -k covers a hung run.
timeout -k 10 "$LIMIT" "$VENV/bin/pytest" -c tests/faults/pytest.ini --rootdir tests/faults \
  tests/faults/test_checker.py tests/faults/test_faults.py -q -rsw "$@" 2>&1 \
  | tee "${TMPDIR:-/tmp}/zkrs-faults.log"
rc=${PIPESTATUS[0]}
# Rules of a run that was killed before its finalizer: tags whose pid is gone.
for tag in $(iptables -S INPUT 2>/dev/null | grep -o 'zkrs-test-[0-9]*' | sort -u); do
  kill -0 "${tag#zkrs-test-}" 2>/dev/null && continue
  iptables -S INPUT | grep -- "--comment $tag " | sed 's/^-A /-D /' | while read -r rule; do
    # shellcheck disable=SC2086
    iptables -w 5 $rule || true
  done
done
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "fault-tests: timed out after ${LIMIT}s"
fi
echo "fault-tests: exit $rc after $(( $(date +%s) - start ))s; results in $FAULTS_OUT"
exit "$rc"
