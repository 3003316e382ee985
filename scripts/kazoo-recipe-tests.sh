#!/usr/bin/env bash
# Runs kazoo 2.11's own recipe test modules with zkrs.Client in place of
# KazooClient, in kazoo's harness, against a 3-member zkrs ensemble in the
# test process (tests/kazoo_recipes/kazoo_zkrs.py says how). The tests in
# tests/kazoo_recipes/known_failures.txt are skipped unless KAZOO_ALL=1, so
# a test that passed and stops passing fails this run. Extra arguments go
# to pytest.
#   ZKRS_VENV      a venv with zkrs, kazoo==2.11.0, pytest, pytest-timeout,
#                  pyopenssl, pyjks, objgraph (default: the test venv)
#   KAZOO_MODULES  which of kazoo.tests' modules (default: the ten recipe ones)
#   KAZOO_ALL=1    run the known failures too
#   KAZOO_CLIENT=kazoo  kazoo's own client on the same zkrs ensemble
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${ZKRS_VENV:-$TARGET/python-venv}"
MODULES="${KAZOO_MODULES:-test_lock test_election test_barrier test_counter test_queue test_party test_partitioner test_lease test_watchers test_cache}"
args=()
for m in $MODULES; do args+=("kazoo.tests.$m"); done
if [ "${KAZOO_ALL:-0}" != 1 ]; then
  export KAZOO_KNOWN_FAILURES="$ROOT/tests/kazoo_recipes/known_failures.txt"
fi
cd "$ROOT/tests/kazoo_recipes"
PYTHONPATH="$ROOT/tests/kazoo_recipes" exec "$VENV/bin/python" -m pytest \
  -p kazoo_zkrs -p no:cacheprovider --timeout 60 --pyargs "${args[@]}" "$@"
