"""Mutual exclusion across languages under a member failure: 3 Python, 3
Node and 3 C processes share one zkrs Lock on a 3-member ensemble of real
`zkrs server` processes, and each increments a plain counter znode inside
the critical section (read, then write without a version check) until
1,000 increments were made in total. Meanwhile the leader is SIGKILLed and
restarted. The final value must be exactly 1,000: any overlap of two
holders would lose an increment.

    ZKRS_REPO_ROOT=<repo> ZKRS_TARGET_DIR=<cargo target dir> \\
    ZKRS_BIN=<target>/debug/zkrs <venv>/bin/python -m pytest tests/cross -q

Members run on 127.0.0.121-123 (ZKRS_CROSS_BASE to move them)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zkrs

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "ensemble"))
sys.path.insert(0, str(HERE))

import ensharness  # noqa: E402
from test_cross_language import LIBDIR, NODE_PACKAGE, ROOT, require_built  # noqa: E402

TOTAL = 1000
BASE = int(os.environ.get("ZKRS_CROSS_BASE", "121"))


def build_c_worker(out_dir):
    exe = out_dir / "lock_worker"
    cmd = [
        "gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-g",
        f"-I{ROOT / 'include'}", str(HERE / "lock_worker.c"), "-o", str(exe),
        f"-L{LIBDIR}", "-lzkrs", f"-Wl,-rpath,{LIBDIR}",
    ]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"gcc failed:\n{r.stderr}"
    return exe


def shares(n_workers, total):
    base, extra = divmod(total, n_workers)
    return [base + (1 if i < extra else 0) for i in range(n_workers)]


@pytest.mark.timeout(240)
def test_nine_processes_in_three_languages_share_one_lock(tmp_path):
    require_built()
    c_worker = build_c_worker(tmp_path)
    ens = ensharness.Ensemble(3, base_ip=BASE).start()
    workers = []
    try:
        hosts = ens.connect_string()
        with zkrs.Client(hosts, timeout=10.0) as zk:
            zk.create("/xlock/n", b"0", makepath=True)
        env = dict(os.environ, ZKRS_NODE_PACKAGE=str(NODE_PACKAGE))
        commands = (
            [[sys.executable, str(HERE / "lock_worker.py")]] * 3
            + [["node", str(HERE / "lock_worker.js")]] * 3
            + [[str(c_worker)]] * 3
        )
        counts = shares(len(commands), TOTAL)
        for i, (cmd, n) in enumerate(zip(commands, counts)):
            name = "%s-%d" % (Path(cmd[-1]).suffix.lstrip(".") or "c", i)
            workers.append(subprocess.Popen(
                cmd + [hosts, str(n), name], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        # Let the line form, then kill the leader and bring it back.
        started = time.monotonic()
        time.sleep(2.0)
        leader = ens.leader()
        leader.kill()
        time.sleep(2.0)
        leader.restart()
        reports = []
        for w in workers:
            out, err = w.communicate(timeout=200)
            lines = [ln for ln in out.splitlines() if ln.startswith("{")]
            report = json.loads(lines[-1]) if lines else {"error": "no report"}
            report["exit"] = w.returncode
            report["stderr"] = err[-500:]
            reports.append(report)
        print("%d increments by %d processes in %.1f s; member %d SIGKILLed at 2 s, restarted at 4 s"
              % (TOTAL, len(workers), time.monotonic() - started, leader.id))
        failed = [r for r in reports if r["exit"] != 0 or "error" in r]
        assert not failed, failed
        assert sum(r["done"] for r in reports) == TOTAL
        with zkrs.Client(ens.connect_string(), timeout=10.0) as zk:
            zk.sync("/xlock/n")
            value = int(zk.get("/xlock/n")[0])
            left = zk.get_children("/xlock/lock")
        assert value == TOTAL, "%d increments lost: two holders at once" % (TOTAL - value)
        assert left == [], "lock nodes left behind: %s" % left
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(5)
        ens.cleanup()
