"""Cross-language: a zkrs member embedded in this Python process serves a
Node client and a C client in one test (issue 3, "What must be shown" 4).

    ZKRS_REPO_ROOT=<repo> ZKRS_TARGET_DIR=<cargo target dir> \\
        <venv>/bin/python -m pytest tests/cross -q

Needs, built beforehand (scripts/test.sh does it): libzkrs.so in
$ZKRS_TARGET_DIR/debug (cargo build -p zkrs-capi), the `zkrs` Python
package in the running interpreter (pip install ./python) and the Node
addon in <repo>/node (npm install there). gcc and node come from PATH.

The steps, in order:
  1. Python starts zkrs.Member(), creates /cross and /cross/py, sets a
     one-shot child watch on /cross (client A) and a persistent recursive
     watch on /cross (client B);
  2. tests/cross/node_client.js reads /cross/py, creates /cross/node, sets a
     data watch on /cross/py and says it is ready (it keeps running);
  3. tests/cross/c_client.c, compiled here against include/zkrs.h and
     libzkrs.so, reads /cross/py and /cross/node, creates /cross/c
     ephemeral, closes its session and exits 0;
  4. Python sees /cross/c vanish, changes /cross/py, and the Node client
     reports its watch event and exits 0;
  5. Python checks the three nodes and every watch.
"""

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

import zkrs
from zkrs import WatchedEvent

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("ZKRS_REPO_ROOT") or HERE.parent.parent).resolve()
TARGET = Path(
    os.environ.get("ZKRS_TARGET_DIR") or os.environ.get("CARGO_TARGET_DIR") or ROOT / "target"
).resolve()
LIBDIR = TARGET / "debug"
NODE_PACKAGE = ROOT / "node"

STEP_TIMEOUT = 20.0  # seconds for any single wait on another process


class Events:
    """Collects watch events from a client's event thread."""

    def __init__(self):
        self.items = []
        self._cond = threading.Condition()

    def __call__(self, event):
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait_for(self, pred, what, timeout=STEP_TIMEOUT):
        with self._cond:
            ok = self._cond.wait_for(lambda: pred(self.items), timeout)
            assert ok, f"{what}: not seen within {timeout} s; got {self.items}"
            return list(self.items)


class LineReader:
    """Reads a subprocess's stdout lines on a thread, so waits can time out."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.all = []
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        for line in stream:
            self.all.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def next_json(self, timeout=STEP_TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout} s") from None
        assert line is not None, "the process closed its stdout"
        return json.loads(line)


def require_built():
    missing = [
        str(p)
        for p in (
            LIBDIR / "libzkrs.so",
            ROOT / "include" / "zkrs.h",
            NODE_PACKAGE / "index.js",
        )
        if not p.exists()
    ]
    if not list(NODE_PACKAGE.glob("zkrs*.node")):
        missing.append(f"{NODE_PACKAGE}/zkrs.*.node (npm install in node/)")
    for tool in ("gcc", "node"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if missing:
        pytest.fail("cross-language test prerequisites missing: " + ", ".join(missing))


def build_c_client(out_dir):
    exe = out_dir / "c_client"
    cmd = [
        "gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-pthread",
        f"-I{ROOT / 'include'}", str(HERE / "c_client.c"), "-o", str(exe),
        f"-L{LIBDIR}", "-lzkrs", f"-Wl,-rpath,{LIBDIR}",
    ]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"gcc failed:\n{r.stderr}"
    return exe


@pytest.mark.timeout(90)
def test_python_member_serves_node_and_c_clients(tmp_path):
    require_built()
    c_client = build_c_client(tmp_path)

    with zkrs.Member() as member:
        hosts = member.connect_string
        with zkrs.Client(hosts, timeout=10.0) as zk, zkrs.Client(hosts, timeout=10.0) as watcher:
            # 1. Python: the tree and two watches.
            zk.create("/cross", b"cross-root")
            zk.create("/cross/py", b"from-python")
            child_once = Events()
            assert zk.get_children("/cross", watch=child_once) == ["py"]
            tree = Events()
            watcher.add_watch("/cross", tree, recursive=True)

            env = dict(
                os.environ,
                ZKRS_CONNECT=hosts,
                ZKRS_NODE_PACKAGE=str(NODE_PACKAGE),
                ZKRS_NODE_WAIT_MS=str(int(STEP_TIMEOUT * 1000)),
            )
            node = subprocess.Popen(
                ["node", str(HERE / "node_client.js")],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            node_out = LineReader(node.stdout)
            node_err = LineReader(node.stderr)
            try:
                # 2. Node: reads /cross/py, creates /cross/node, watches /cross/py.
                try:
                    ready = node_out.next_json()
                except AssertionError as e:
                    raise AssertionError(f"node client: {e}; stderr: {''.join(node_err.all)}")
                assert ready.get("ready") is True, ready
                assert ready["read"] == "from-python"
                assert ready["created"] == "/cross/node"
                assert ready["pyVersion"] == 0
                node_session = int(ready["sessionId"])
                assert node_session != 0

                # 3. C: reads both, creates /cross/c ephemeral, exits.
                c = subprocess.run(
                    [str(c_client), hosts],
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT,
                )
                assert c.returncode == 0, f"c_client exited {c.returncode}:\n{c.stdout}{c.stderr}"
                assert "read /cross/py = from-python" in c.stdout
                assert "read /cross/node = from-node" in c.stdout
                c_session = int(c.stdout.split("session=")[1].split()[0], 16)
                assert c_session not in (0, node_session, zk.client_id[0])

                # The C client closed its session before exiting: /cross/c is
                # gone at once, well before the 10 s session timeout could
                # have expired it.
                tree.wait_for(
                    lambda evs: WatchedEvent("DELETED", "CONNECTED", "/cross/c") in evs,
                    "DELETED /cross/c after the C client closed its session",
                    timeout=3.0,
                )
                assert zk.exists("/cross/c") is None

                # 4. Python changes /cross/py; Node's watch reports it.
                zk.set("/cross/py", b"changed-by-python")
                report = node_out.next_json()
                assert "error" not in report, report
                assert report["event"] == {
                    "type": "NodeDataChanged",
                    "typeCode": 3,
                    "state": "SyncConnected",
                    "path": "/cross/py",
                }
                assert report["data"] == "changed-by-python"
                assert report["pyVersion"] == 1
                assert node.wait(timeout=STEP_TIMEOUT) == 0, "".join(node_err.all)
            finally:
                if node.poll() is None:
                    node.kill()
                    node.wait(timeout=5)

            # 5. Python: the three nodes and the watches.
            data, stat = zk.get("/cross/py")
            assert data == b"changed-by-python" and stat.version == 1
            data, stat = zk.get("/cross/node")
            assert data == b"from-node" and stat.ephemeralOwner == 0
            assert zk.exists("/cross/c") is None
            children, stat = zk.get_children("/cross", include_data=True)
            assert sorted(children) == ["node", "py"]
            # node created, c created, c deleted
            assert stat.cversion == 4 and stat.numChildren == 2

            # The one-shot child watch fired once, for Node's create.
            assert child_once.items == [WatchedEvent("CHILD", "CONNECTED", "/cross")]
            # The persistent recursive watch saw every change, in order.
            got = tree.wait_for(lambda evs: len(evs) >= 4, "four events under /cross")
            assert [(e.type, e.path) for e in got] == [
                ("CREATED", "/cross/node"),
                ("CREATED", "/cross/c"),
                ("DELETED", "/cross/c"),
                ("CHANGED", "/cross/py"),
            ]
