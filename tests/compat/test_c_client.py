"""The official ZooKeeper C client (libzookeeper-mt) against the server."""

import os
import shutil
import subprocess
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "c", "zkc_test.c")


@pytest.fixture(scope="module")
def zkc_binary(tmp_path_factory):
    if not os.path.exists("/usr/include/zookeeper/zookeeper.h"):
        pytest.fail("libzookeeper-mt-dev missing: run scripts/install-test-deps.sh")
    out = str(tmp_path_factory.mktemp("zkc") / "zkc_test")
    cc = shutil.which("gcc") or "cc"
    r = subprocess.run(
        [cc, "-std=gnu99", "-Wall", "-Werror", "-O1", "-DTHREADED", "-o", out, SRC, "-lzookeeper_mt", "-lpthread"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, "compile failed:\n" + r.stderr
    return out


def test_c_client(server, zkc_binary, zk):
    zk.ensure_path("/compat")
    base = "/compat/c-" + uuid.uuid4().hex[:8]
    r = subprocess.run([zkc_binary, server.hostport, base], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "C client checks failed:\n%s\n%s" % (r.stdout, r.stderr)
    assert "OK all C client checks passed" in r.stdout
    # what it left behind, seen through kazoo
    assert sorted(zk.get_children(base)) == ["later", "m2", "node"]
    assert zk.get(base + "/node")[0] == b"m"
