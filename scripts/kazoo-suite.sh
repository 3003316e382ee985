#!/usr/bin/env bash
# Runs kazoo 2.11's whole bundled test suite (`python -m pytest --pyargs
# kazoo.tests`, kazoo's own KazooClient, tests unchanged) against zkrs server
# processes and, for comparison, against Apache ZooKeeper 3.8 (Debian's
# `zookeeper` package), once per configuration, and prints passed / failed /
# errors / skipped per run plus the failing tests.
#
# kazoo's harness starts the members itself (kazoo.testing.common); the
# plugin tests/kazoo_suite/kazoo_zkrs_servers.py makes its members zkrs
# processes (`$ZKRS_BIN server --config zoo.cfg`, with kazoo's zoo.cfg) or
# leaves them kazoo's Java ones, and bounds and cleans them up.
#
#   scripts/kazoo-suite.sh [extra pytest args]     e.g. -k TestClient -x
#
#   ZKRS_BIN            the zkrs binary (default $CARGO_TARGET_DIR or
#                       target/, release/zkrs). Copy it first if it is being
#                       rebuilt meanwhile.
#   KAZOO_SERVERS       "zkrs zookeeper" (default), or one of them
#   KAZOO_CONFIGS       "standalone ensemble" (default); see CONFIG_ENV
#   KAZOO_RUN_TIMEOUT   seconds per run (default 1800)
#   KAZOO_TEST_TIMEOUT  seconds per test, pytest-timeout (default 180)
#   KAZOO_PORT_BASE     first port (default 27000, below Linux's ephemeral
#                       range); each run takes 100 ports from base+100*i
#   KAZOO_SUITE_OUT     where logs and reports go (default a new /tmp dir)
#   ZKRS_VENV           a venv with kazoo[test]==2.11.0 and pyopenssl<24.3
#                       (default .venv). kazoo's test extra brings pytest,
#                       pytest-timeout, pyopenssl, pyjks, objgraph, gevent and
#                       eventlet; kazoo's harness calls X509.add_extensions,
#                       gone in pyopenssl 24.3. Without gevent/eventlet their
#                       handler tests skip; without pure-sasl (kazoo's `sasl`
#                       extra, not in `test`) the SASL tests skip.
# The ZooKeeper JVMs get JAVA_TOOL_OPTIONS="-Xmx256m -XX:+UseSerialGC" (small
# machines); kazoo's own classes start them. $CI is unset: kazoo's tests
# change behaviour on it.
# Exit status: 0 when no zkrs run had a failure or error, 1 otherwise, 2 on
# bad setup. Per run, $KAZOO_SUITE_OUT/<server>-<config>/ holds pytest.log,
# junit.xml, failures.txt and logs/ (one file per member, marked at each
# test's start and at each start/stop of the member).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKRS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
export ZKRS_BIN="${ZKRS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/zkrs}"
SERVERS="${KAZOO_SERVERS:-zkrs zookeeper}"
CONFIGS="${KAZOO_CONFIGS:-standalone ensemble}"
LIMIT="${KAZOO_RUN_TIMEOUT:-1800}"
TEST_LIMIT="${KAZOO_TEST_TIMEOUT:-180}"
PORT_BASE="${KAZOO_PORT_BASE:-27000}"
OUT="${KAZOO_SUITE_OUT:-${TMPDIR:-/tmp}/kazoo-suite-$(date +%Y%m%d-%H%M%S)}"

# A configuration is a set of kazoo harness variables (kazoo/testing/
# harness.py). TLS, SASL and read-only configurations would go here once
# zkrs serves them.
declare -A CONFIG_ENV=(
  [standalone]="ZOOKEEPER_CLUSTER_SIZE=1"
  [ensemble]="ZOOKEEPER_CLUSTER_SIZE=3"
)

# Debian's zookeeper.jar names most of its dependencies in its manifest but
# misses these (as tests/compat/zkharness.py finds).
JAVA_DIR=/usr/share/java
ZK_CLASSPATH="$JAVA_DIR/zookeeper.jar"
for j in netty-codec netty-resolver netty-transport-native-unix-common slf4j-log4j12 log4j-1.2; do
  ZK_CLASSPATH="$ZK_CLASSPATH:$JAVA_DIR/$j.jar"
done
ZK_VERSION="$(ls "$JAVA_DIR"/zookeeper-3.*.jar 2>/dev/null | sed -n 's/.*zookeeper-\(3\.[0-9.]*[0-9]\)\.jar$/\1/p' | head -1)"
ZK_VERSION="${ZK_VERSION:-3.8.0}"

fail() { echo "kazoo-suite: $*" >&2; exit 2; }
"$PY" -c "import kazoo, pytest, pytest_timeout, jks, objgraph, OpenSSL; OpenSSL.crypto.X509.add_extensions" 2>/dev/null \
  || fail "$VENV lacks kazoo[test]==2.11.0 and pyopenssl<24.3 (pip install 'kazoo[test]==2.11.0' 'pyopenssl<24.3'): set ZKRS_VENV"
for s in $SERVERS; do
  case "$s" in
    zkrs) [ -x "$ZKRS_BIN" ] || fail "ZKRS_BIN=$ZKRS_BIN is not an executable" ;;
    zookeeper) [ -e "$JAVA_DIR/zookeeper.jar" ] || fail "no $JAVA_DIR/zookeeper.jar: apt-get install zookeeper" ;;
    *) fail "unknown server '$s' (zkrs, zookeeper)" ;;
  esac
done
for c in $CONFIGS; do
  [ -n "${CONFIG_ENV[$c]:-}" ] || fail "unknown configuration '$c' (${!CONFIG_ENV[*]})"
done
mkdir -p "$OUT"

# Kills, by PID, members a killed run left behind (only ours: the PID must
# still be running our zkrs binary or ZooKeeper's main class).
sweep() {
  local pidfile="$1" pid cmd
  [ -f "$pidfile" ] || return 0
  while read -r pid; do
    [ -r "/proc/$pid/cmdline" ] || continue
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    case "$cmd" in
      "$ZKRS_BIN server"*|*QuorumPeerMain*)
        echo "kazoo-suite: killing leftover member $pid"
        kill -KILL "$pid" 2>/dev/null ;;
    esac
  done <"$pidfile"
}

# Counts and failures from a junit.xml: prints "passed failed errors skipped"
# and writes class::name<TAB>first line of the reason to failures.txt.
summarize() {
  "$PY" - "$1" "$2" <<'EOF'
import sys
import xml.etree.ElementTree as ET

junit, failures = sys.argv[1], sys.argv[2]
try:
    root = ET.parse(junit).getroot()
except (OSError, ET.ParseError):
    print("? ? ? ?")
    sys.exit(0)
counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
lines = []
for case in root.iter("testcase"):
    kind = "passed"
    for child in case:
        tag = {"failure": "failed", "error": "errors", "skipped": "skipped"}.get(child.tag)
        if tag:
            kind = tag
            if tag != "skipped":
                msg = (child.get("message") or child.text or "").strip().splitlines()
                cls = case.get("classname", "").rsplit(".", 1)[-1]
                lines.append("%s::%s\t%s%s" % (cls, case.get("name"),
                             "[error] " if tag == "errors" else "", (msg or [""])[0][:200]))
            break
    counts[kind] += 1
with open(failures, "w") as f:
    f.write("".join(l + "\n" for l in lines))
print(counts["passed"], counts["failed"], counts["errors"], counts["skipped"])
EOF
}

# Same results whether or not the caller's environment says CI (kazoo's
# tests change behaviour on $CI).
unset CI
status=0
results=()
i=0
for server in $SERVERS; do
  for config in $CONFIGS; do
    run="$server-$config"
    dir="$OUT/$run"
    mkdir -p "$dir/logs"
    : >"$dir/pids"
    offset=$((PORT_BASE + 100 * i))
    i=$((i + 1))
    echo "kazoo-suite: $run (ports $offset.., limit ${LIMIT}s, per test ${TEST_LIMIT}s) -> $dir"
    start=$(date +%s)
    # timeout: SIGTERM to the whole process group (pytest and its members),
    # SIGKILL 30 s later.
    (
      cd "$dir" &&
      env ${CONFIG_ENV[$config]} \
        KAZOO_SERVER="$server" \
        ZOOKEEPER_PATH=/usr/share/zookeeper \
        ZOOKEEPER_CLASSPATH="$ZK_CLASSPATH" \
        ZOOKEEPER_VERSION="$ZK_VERSION" \
        ZOOKEEPER_PORT_OFFSET="$offset" \
        JAVA_TOOL_OPTIONS="-Xmx256m -XX:+UseSerialGC" \
        KAZOO_SUITE_LOGDIR="$dir/logs" \
        KAZOO_SUITE_PIDFILE="$dir/pids" \
        PYTHONPATH="$ROOT/tests/kazoo_suite" \
        timeout -k 30 "$LIMIT" "$PY" -m pytest -p kazoo_zkrs_servers -p no:cacheprovider \
          -c /dev/null --rootdir "$dir" -rfE -v \
          --timeout "$TEST_LIMIT" --junitxml "$dir/junit.xml" \
          --pyargs kazoo.tests "$@"
    ) >"$dir/pytest.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    sweep "$dir/pids"
    read -r passed failed errors skipped < <(summarize "$dir/junit.xml" "$dir/failures.txt")
    note=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then note=" TIMED OUT after ${LIMIT}s"; fi
    line=$(printf '%-22s passed %4s  failed %4s  errors %4s  skipped %4s  %5ss%s' \
      "$run" "$passed" "$failed" "$errors" "$skipped" "$secs" "$note")
    results+=("$line")
    echo "$line"
    if [ -s "$dir/failures.txt" ]; then sed 's/^/    /' "$dir/failures.txt"; fi
    if [ "$server" = zkrs ] && { [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$errors" != 0 ]; }; then
      status=1
    fi
  done
done

echo
echo "kazoo-suite summary (kazoo $("$PY" -c 'import kazoo.version as v; print(v.__version__)'), ZooKeeper $ZK_VERSION, output in $OUT):"
printf '  %s\n' "${results[@]}"
exit "$status"
