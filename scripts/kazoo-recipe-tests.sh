#!/usr/bin/env bash
# Runs kazoo 2.11's own recipe test modules with zkrs.Client in place of
# KazooClient, in kazoo's harness, against a 3-member zkrs ensemble
# (tests/kazoo_recipes/kazoo_zkrs.py says how). Extra arguments go to pytest.
#   ZKRS_VENV   a venv with zkrs, kazoo==2.11.0, pytest (default: the test venv)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${ZKRS_VENV:-$TARGET/python-venv}"
MODULES="${KAZOO_MODULES:-test_lock test_election test_barrier test_counter test_queue test_party test_partitioner test_lease test_watchers test_cache}"
args=()
for m in $MODULES; do args+=("kazoo.tests.$m"); done
cd "$ROOT/tests/kazoo_recipes"
PYTHONPATH="$ROOT/tests/kazoo_recipes" exec "$VENV/bin/python" -m pytest \
  -p kazoo_zkrs -p no:cacheprovider --timeout 120 --pyargs "${args[@]}" "$@"
