#!/usr/bin/env bash
# Runs every zkrs test on a fresh machine, installing what the tests need:
#   1. test dependencies (Debian's ZooKeeper + zkCli, the official C client,
#      a Python venv with kazoo and pytest, node-zookeeper-client from npm);
#   2. formatting and lints (cargo fmt --check, clippy -D warnings);
#   3. the Rust tests (unit tests beside the code, core/tests integration);
#   4. the compatibility suite: a real `zkrs server` process driven by kazoo,
#      the official C client, zkCli and node-zookeeper-client.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

step() { printf '\n== %s\n' "$*"; }

step "installing test dependencies"
bash scripts/install-test-deps.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

step "building the zkrs binary"
cargo build -p zkrs-cli

step "compatibility suite against zkrs"
ZK_SERVER=zkrs ZKRS_BIN="$TARGET/debug/zkrs" bash scripts/compat-tests.sh

# ---- C ABI (libzkrs) ---------------------------------------------------------
# Header drift test, capi/tests/c/test_capi.c under valgrind memcheck (zero
# errors, zero definite leaks) and statically linked, the C++ include check
# with the official zookeeper.h, and examples/c/config_watcher.c built via
# capi/install.sh + pkg-config. Installs valgrind/g++/pkg-config if missing.
step "C ABI: libzkrs tests"
bash capi/tests/c/run.sh
# ---- end C ABI ---------------------------------------------------------------

# ---- Python binding (python/) ------------------------------------------------
# A fresh virtualenv each run: `pip install ./python` builds the abi3 wheel
# through maturin (the PEP 517 backend, from PyPI), then pytest runs
# python/tests (a zkrs.Member in the test process serving zkrs.Client and
# kazoo, watches, every error class, fork), mypy's stubtest checks the .pyi
# stubs and examples/python/config_watcher.py runs. The wheel is built with
# the dev profile so it reuses the Rust test build; users get release.
step "Python binding: pip install ./python, pytest, stubtest, example"
PY_VENV="$TARGET/python-venv"
rm -rf "$PY_VENV"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
"$PY" -m venv "$PY_VENV"
"$PY_VENV/bin/pip" install -q --disable-pip-version-check \
  kazoo==2.11.0 pytest==8.4.2 pytest-timeout==2.4.0 mypy==2.4.1 \
  pyopenssl==26.4.0 pyjks==20.0.0 objgraph==3.7.0
CARGO_TARGET_DIR="$TARGET" MATURIN_PEP517_ARGS="--profile dev" \
  "$PY_VENV/bin/pip" install -q --disable-pip-version-check ./python
"$PY_VENV/bin/python" -m pytest python/tests -q -p no:cacheprovider
(cd "$PY_VENV" && MYPY_CACHE_DIR="$PY_VENV/.mypy_cache" bin/python -m mypy.stubtest zkrs)
"$PY_VENV/bin/python" examples/python/config_watcher.py
# kazoo's own recipe tests, every client zkrs.Client (known failures listed
# in tests/kazoo_recipes/known_failures.txt are skipped).
CARGO_TARGET_DIR="$TARGET" ZKRS_VENV="$PY_VENV" bash scripts/kazoo-recipe-tests.sh -q
# ---- end Python binding ------------------------------------------------------

# ---- ensemble suite (tests/ensemble) ----------------------------------------
# zkrs members as separate processes on 127.0.0.x, iptables partitions (root),
# and the kazoo compatibility tests against a 3-member ensemble.
step "ensemble suite against zkrs"
ZKRS_BIN="$TARGET/debug/zkrs" bash scripts/ensemble-tests.sh
# ---- end ensemble suite -----------------------------------------------------

# ---- kazoo's whole bundled suite (kazoo.tests) ------------------------------
# kazoo 2.11's own tests, its own KazooClient, against 3 zkrs member processes
# that kazoo's harness configures (TLS port, SASL users, read-only mode,
# member stops and restarts). Every test must pass (3 skip: Kerberos x2 and a
# CI-only check). The standalone run and the same runs against Apache
# ZooKeeper are `scripts/kazoo-suite.sh` without KAZOO_SERVERS/KAZOO_CONFIGS.
step "kazoo's bundled suite against a 3-member zkrs ensemble"
ZKRS_VENV="${KAZOO_SUITE_VENV:-$ROOT/.venv-kazoo-suite}" ZKRS_BIN="$TARGET/debug/zkrs" \
  KAZOO_SERVERS=zkrs KAZOO_CONFIGS=ensemble bash scripts/kazoo-suite.sh
# ---- end kazoo's bundled suite ----------------------------------------------

# >>> Node binding (node/) ----------------------------------------------------
# `npm install` in node/ installs @napi-rs/cli and TypeScript and, through the
# package's install script, builds the addon (napi build --release) and
# regenerates index.d.ts/index.js, which must match the checked-in ones.
# Then the node --test suite (a Member in the test process, the Promise API,
# watch callbacks, error codes, the config_watcher example) and tsc on a
# typed example.
step "Node binding: build, index.d.ts drift, node --test, tsc"
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)' 2>/dev/null; then
  echo "the Node binding needs Node.js >= 20.17 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
# (npm install, not npm ci: the lock cannot list the napi CLI's optional
# per-platform packages that the registry does not carry, and ci refuses it.)
(cd node && npm install --no-audit --no-fund --loglevel=error)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code -- node/index.d.ts node/index.js ||
    { echo "node/index.d.ts or node/index.js drifted from the Rust sources: commit the regenerated files" >&2; exit 1; }
fi
node --test node/test/
(cd node && npx --no-install tsc -p tsconfig.json)
# <<< Node binding ------------------------------------------------------------

# ---- packages without Rust ---------------------------------------------------
# The abi3 wheel and the npm tarball with the prebuilt addon install and run
# where no cargo is on PATH (scripts/package-check.sh).
step "packages: abi3 wheel and npm tarball install and run without Rust"
CARGO_TARGET_DIR="$TARGET" ZKRS_VENV="$PY_VENV" bash scripts/package-check.sh
# ---- end packages -------------------------------------------------------------

# >>> cross-language (tests/cross) --------------------------------------------
# A zkrs.Member embedded in the pytest process serves a Node client
# (tests/cross/node_client.js, requiring the addon built in node/ above) and
# a C client (tests/cross/c_client.c, compiled with gcc against
# include/zkrs.h and $TARGET/debug/libzkrs.so from the C ABI step), in one
# test. Then 3 Python, 3 Node and 3 C processes share one Lock on a
# 3-member ensemble of zkrs processes (127.0.0.121-123) while its leader is
# SIGKILLed and restarted (tests/cross/test_cross_lock.py), and 5 election
# candidates in separate processes never lead at once
# (tests/cross/test_cross_election.py). Reuses the Python venv from the
# Python binding step.
step "cross-language: Python member, Node and C clients; one lock for 9 processes"
ZKRS_REPO_ROOT="$ROOT" ZKRS_TARGET_DIR="$TARGET" ZKRS_BIN="$TARGET/debug/zkrs" \
  timeout 420 "$PY_VENV/bin/python" -m pytest tests/cross -q -p no:cacheprovider
# <<< cross-language ----------------------------------------------------------

# >>> fault suite (tests/faults) ----------------------------------------------
# Real zkrs and Apache ZooKeeper ensembles (3 members each, 127.0.0.41.. and
# 127.0.0.51..) under SIGKILL, SIGSTOP and iptables partitions while kazoo
# clients record histories; fails when zkrs is not linearizable or loses,
# duplicates or reorders data. Prints both systems' availability figures.
step "fault suite: zkrs and Apache ZooKeeper under faults"
ZKRS_BIN="$TARGET/debug/zkrs" bash scripts/fault-tests.sh
# <<< fault suite -------------------------------------------------------------
