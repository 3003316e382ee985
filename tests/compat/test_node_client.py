"""node-zookeeper-client (npm) against the server, via `node --test`."""

import os
import re
import shutil
import subprocess
import uuid

import pytest

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def test_node_zookeeper_client(server, zk):
    node = shutil.which("node")
    if not node:
        pytest.fail("node not found")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "node-zookeeper-client")):
        pytest.fail("node-zookeeper-client missing: run scripts/install-test-deps.sh")
    base = "/compat/node-" + uuid.uuid4().hex[:8]
    env = dict(os.environ, ZK_HOST=server.host, ZK_PORT=str(server.port), ZK_BASE=base)
    r = subprocess.run([node, "--test", "test.js"], cwd=NODE_DIR, env=env,
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    m = re.search(r"^# pass (\d+)$", out, re.M)
    assert m and int(m.group(1)) >= 9, out
    assert re.search(r"^# fail 0$", out, re.M), out
    assert zk.exists(base + "/t/a")
