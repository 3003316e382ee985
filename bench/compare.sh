#!/usr/bin/env bash
# zkrs and Apache ZooKeeper 3.8 side by side (see bench/compare.py for what
# it measures). Installs what it needs (Debian's zookeeper, the Python test
# venv), builds zkrs in release mode, and passes its arguments on:
#   bench/compare.sh            full run: 3 rounds, 10 s loads, 1M znodes
#   bench/compare.sh --quick    a couple of minutes
# Results: the table on stdout; results.json and table.md in --out
# (default /tmp/zkrs-compare).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
cd "$ROOT"
if [ ! -x "$VENV/bin/python" ] || [ ! -e /usr/share/java/zookeeper.jar ]; then
  bash scripts/install-test-deps.sh
fi
cargo build --release -p zkrs-cli
export ZKRS_BIN="${ZKRS_BIN:-$TARGET/release/zkrs}"
# A copy, so a rebuild during the run cannot change the binary under test.
BIN_COPY="$(mktemp "${TMPDIR:-/tmp}/zkrs-bench-bin.XXXXXX")"
trap 'rm -f "$BIN_COPY"' EXIT
cp "$ZKRS_BIN" "$BIN_COPY" && chmod 755 "$BIN_COPY"
ZKRS_BIN="$BIN_COPY" exec timeout -k 10 "${ZK_BENCH_TIMEOUT:-14400}" "$VENV/bin/python" bench/compare.py "$@"
