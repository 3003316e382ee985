"""`zkrs mirror --from ZK --to ZKRS`: a running Apache ZooKeeper under
writes is copied into a zkrs server through the client protocol and kept in
sync; once the writes stop the two trees are equal (data, null data,
ACLs), ephemerals stay with their owners, and
the mirror stops cleanly on SIGTERM."""

import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

from zkharness import ZkServer, server_kind

pytestmark = pytest.mark.skipif(server_kind() != "zkrs", reason="mirrors Apache ZooKeeper into zkrs")


@pytest.fixture(scope="module")
def pair():
    zk = ZkServer(kind="apache").start()
    rs = ZkServer(kind="zkrs").start()
    yield zk, rs
    zk.cleanup()
    rs.cleanup()


def client(srv):
    c = KazooClient(hosts=srv.hostport, timeout=10)
    c.start(timeout=15)
    return c


def tree(c, root):
    """{path: (data, acl, ephemeral?)} under root, ACLs as comparable tuples."""
    out, stack = {}, [root]
    while stack:
        p = stack.pop()
        data, stat = c.get(p)
        acl = sorted((a.perms, a.id.scheme, a.id.id) for a in c.get_acls(p)[0])
        out[p] = (data, acl, stat.ephemeralOwner != 0 and stat.ephemeralOwner > 0)
        stack.extend("%s/%s" % (p, ch) for ch in c.get_children(p))
    return out


def mirror_cmd(zk, rs, *extra):
    return [os.environ["ZKRS_BIN"], "mirror", "--from", zk.hostport, "--to", rs.hostport,
            "--digest", "mirror:secret", *extra]


def test_mirror_follows_writes_until_stopped(pair, tmp_path):
    zk, rs = pair
    root = "/m-" + uuid.uuid4().hex[:6]
    src = client(zk)
    src.add_auth("digest", "mirror:secret")
    src.create(root + "/before/a", b"one", makepath=True)
    src.create(root + "/nulldata", None)
    src.create(root + "/locked", b"acl", acl=[make_digest_acl("mirror", "secret", all=True)])
    src.create(root + "/box/item", b"i", makepath=True)
    owner = client(zk)
    owner.create(root + "/eph", b"mine", ephemeral=True)

    log = open(str(tmp_path / "mirror.log"), "wb")
    proc = subprocess.Popen(mirror_cmd(zk, rs, "--path", root), stdout=log, stderr=subprocess.STDOUT)
    try:
        # Writes while the mirror copies and follows.
        deadline = time.monotonic() + 3
        i = 0
        while time.monotonic() < deadline and i < 2000:
            p = "%s/live/n%d" % (root, i % 40)
            if src.exists(p):
                src.set(p, b"v%d" % i)
            else:
                src.create(p, b"c%d" % i, makepath=True)
            if i % 7 == 0:
                src.delete("%s/live/n%d" % (root, (i * 3) % 40), recursive=True) \
                    if src.exists("%s/live/n%d" % (root, (i * 3) % 40)) else None
            i += 1
        src.set(root + "/before/a", b"two")
        src.delete(root + "/before", recursive=True)
        src.create(root + "/after/deep/x", b"late", makepath=True)
        assert i > 50

        dst = client(rs)
        dst.add_auth("digest", "mirror:secret")
        want = {p: v for p, v in tree(src, root).items() if not v[2]}

        def equal():
            try:
                got = tree(dst, root)
            except Exception:  # noqa: BLE001 - a node went while we walked
                return False
            return got == want

        limit = time.monotonic() + 30
        while not equal() and time.monotonic() < limit:
            time.sleep(0.2)
        got = tree(dst, root)
        assert got == want, sorted(set(got.items()) ^ set(want.items()))[:10]
        assert root + "/eph" not in got
        assert dst.get(root + "/nulldata")[0] is None
        assert proc.poll() is None, "the mirror exited early"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        log.close()
    text = open(str(tmp_path / "mirror.log")).read()
    assert rc == 0, text
    assert "in sync" in text and "stopped" in text
    for c in (src, owner, dst):
        c.stop()
        c.close()


def test_mirror_once_copies_and_exits(pair):
    zk, rs = pair
    root = "/once-" + uuid.uuid4().hex[:6]
    src = client(zk)
    src.create(root + "/a/b", b"x", makepath=True)
    r = subprocess.run(mirror_cmd(zk, rs, "--path", root, "--once"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    dst = client(rs)
    assert dst.get(root + "/a/b")[0] == b"x"
    bad = subprocess.run([os.environ["ZKRS_BIN"], "mirror", "--from", "127.0.0.1:1", "--to",
                          rs.hostport, "--once"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "cannot connect" in bad.stderr
    for c in (src, dst):
        c.stop()
        c.close()


def test_mirror_draws_a_progress_bar_in_a_terminal(pair):
    """In a terminal the first pass draws a bar of znodes copied out of the
    source's count (ZooKeeper's getAllChildrenNumber); the summary line
    stays after it."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed (scripts/install-test-deps.sh installs it)")
    zk, rs = pair
    root = "/bar-" + uuid.uuid4().hex[:6]
    src = client(zk)
    src.create(root)
    ops = [src.create_async("%s/n%04d" % (root, i), b"x") for i in range(1500)]
    for op in ops:
        op.get(timeout=30)
    name = "zkrs-mirror-bar-%s" % uuid.uuid4().hex[:6]
    cmd = " ".join(mirror_cmd(zk, rs, "--path", root, "--once")) + "; echo MIRROR-EXITED $?; sleep 60"
    run = lambda *a: subprocess.run(["tmux", *a], capture_output=True, text=True, timeout=10)
    run("new-session", "-d", "-s", name, "-x", "160", "-y", "20", cmd)
    try:
        bars, text = set(), ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "MIRROR-EXITED" not in text:
            text = run("capture-pane", "-p", "-t", name).stdout
            bars.update(re.findall(r"copying \[\d+s\] .* (\d+)/1501 ", text))
            time.sleep(0.05)
        assert "MIRROR-EXITED 0" in text, text
        assert bars, "no bar seen; last pane:\n" + text
        assert "copied 1501 znodes" in text, text
    finally:
        run("kill-session", "-t", name)
        src.stop()
        src.close()
