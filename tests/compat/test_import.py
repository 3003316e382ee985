"""`zkrs import`: an Apache ZooKeeper 3.8 dataDir (a snapshot plus logs
after it, ZooKeeper SIGKILLed with sessions live) becomes a zkrs dataDir
that serves the same znodes (data, Stat, ACL), sessions and ephemerals; a
new write gets a higher zxid. Importing over existing zkrs data is refused
and changes nothing."""

import os
import socket
import struct
import subprocess
import time
import zlib

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState
from kazoo.security import make_digest_acl, make_acl

import kazoo_ext
from zkharness import ZkServer, server_kind, write_cfg

pytestmark = pytest.mark.skipif(server_kind() != "zkrs", reason="imports into zkrs")

AUTH = ("digest", "alice:secret")


def client(port, timeout=30.0):
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=timeout,
                     auth_data=[AUTH], connection_retry={"max_tries": -1, "delay": 0.2,
                                                         "max_delay": 1})
    zk.start(timeout=15)
    return zk


def workload(zk):
    digest = make_digest_acl("alice", "secret", all=True)
    world_read = make_acl("world", "anyone", read=True)
    zk.create("/app", b"root")
    for i in range(120):
        zk.create("/app/p%03d" % i, b"v%d" % i)
    for i in range(0, 120, 3):
        zk.set("/app/p%03d" % i, b"changed-%d" % i)
    for i in range(0, 120, 5):
        zk.delete("/app/p%03d" % i)
    for _ in range(5):
        zk.create("/app/seq-", b"s", sequence=True)
    zk.create("/app/null", None)
    zk.create("/app/empty", b"")
    zk.create("/app/secret", b"hidden", acl=[digest])
    zk.create("/app/mixed", b"m", acl=[digest, world_read])
    zk.set_acls("/app/p001", [digest, world_read])
    kazoo_ext.create_container(zk, "/app/box", b"")
    zk.create("/app/box/child", b"c")
    kazoo_ext.create_ttl(zk, "/app/ttl", 3600 * 1000, b"t")
    t = zk.transaction()
    t.create("/app/multi-a", b"a")
    t.set_data("/app/p002", b"by-multi")
    t.delete("/app/p004")
    t.commit()
    zk.create("/app/gone-eph", b"x", ephemeral=True)


def read_all(zk, path="/", out=None):
    out = {} if out is None else out
    data, stat = zk.get(path)
    acl, _ = zk.get_acls(path)
    out[path] = (data, tuple(stat), sorted((a.perms, a.id.scheme, a.id.id) for a in acl))
    for child in zk.get_children(path):
        read_all(zk, (path.rstrip("/") + "/" + child), out)
    return out


def write_then_kill(zk_srv, count, prefix):
    """Creates `count` znodes on ZooKeeper, reads its whole tree, then
    SIGKILLs it: the tree it served, with the last writes in its log."""
    zk = client(zk_srv.port)
    for i in range(count):
        zk.create("%s-%d" % (prefix, i), b"%d" % i)
    expected = read_all(zk)
    zk.stop()
    zk.close()
    zk_srv.kill()
    return expected


def assert_serves(zkrs_srv, expected):
    """Starts zkrs and checks that it serves the tree `expected`."""
    zkrs_srv.start()
    zk = client(zkrs_srv.port)
    got = read_all(zk)
    zk.stop()
    zk.close()
    assert sorted(got) == sorted(expected)
    for path in expected:
        assert got[path] == expected[path], path


def wait_port_free(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()


def run_import(zk_dir, cfg):
    return subprocess.run([os.environ["ZKRS_BIN"], "import", "--zk-data-dir", zk_dir,
                           "--config", cfg], capture_output=True, text=True, timeout=120)


def listing(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            st = os.stat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


def test_import_serves_what_zookeeper_served():
    zk_srv = ZkServer(kind="apache")
    with open(zk_srv.cfg, "a") as f:
        f.write("snapCount=100\n")
    zk_srv.start()
    live = []
    zkrs_srv = None
    try:
        w = client(zk_srv.port)
        workload(w)
        w.stop()  # closeSession: its ephemeral goes
        w.close()
        # A restart: ZooKeeper snapshots on start, so the import reads a
        # snapshot taken mid-history plus logs on both sides of it.
        zk_srv.restart()
        for i in range(3):
            c = client(zk_srv.port)
            c.create("/app/live-%d" % i, b"mine", ephemeral=True)
            c.create("/app/live-seq-", b"s", ephemeral=True, sequence=True)
            live.append(c)
        expected = read_all(live[0])
        sessions = [c.client_id[0] for c in live]
        last = max(max(s[1][0], s[1][1], s[1][10]) for s in expected.values())
        v2 = os.path.join(zk_srv.data_dir, "version-2")
        names = os.listdir(v2)
        assert any(n.startswith("snapshot.") and n != "snapshot.0" for n in names), names
        assert any(n.startswith("log.") for n in names), names
        zk_srv.kill()  # SIGKILL with the sessions live

        zkrs_srv = ZkServer(kind="zkrs")
        zkrs_srv.port = zk_srv.port  # the live clients reconnect here
        write_cfg(zkrs_srv.cfg, zkrs_srv.data_dir, zkrs_srv.port)
        res = run_import(zk_srv.data_dir, zkrs_srv.cfg)
        assert res.returncode == 0, res.stderr
        assert "last zxid" in res.stderr, res.stderr
        wait_port_free(zkrs_srv.port)
        zkrs_srv.start()

        reader = client(zkrs_srv.port)
        got = read_all(reader)
        assert sorted(got) == sorted(expected)
        for path in expected:
            assert got[path] == expected[path], path
        assert "/app/gone-eph" not in got

        for c, sid in zip(live, sessions):
            deadline = time.monotonic() + 30
            while c.state != KazooState.CONNECTED and time.monotonic() < deadline:
                time.sleep(0.1)
            assert c.state == KazooState.CONNECTED
            assert c.client_id[0] == sid
        owners = {got[p][1][7] for p in got if p.startswith("/app/live-")}
        assert owners == set(sessions)

        stat = live[0].set("/app/p001", b"after")
        assert stat.mzxid > last
        path = live[1].create("/app/after", b"new")
        assert reader.exists(path).czxid > stat.mzxid
        reader.stop()
        reader.close()

        # A second import into the now-used dataDir is refused, untouched.
        zkrs_srv.kill()
        before = listing(zkrs_srv.data_dir)
        res = run_import(zk_srv.data_dir, zkrs_srv.cfg)
        assert res.returncode == 2, res.stderr
        assert "already holds zkrs data" in res.stderr
        assert listing(zkrs_srv.data_dir) == before
    finally:
        for c in live:
            c.stop()
            c.close()
        zk_srv.cleanup()
        if zkrs_srv is not None:
            zkrs_srv.cleanup()


@pytest.mark.parametrize("method", ["gz", "snappy"])
def test_import_reads_a_compressed_snapshot(method):
    """ZooKeeper told to compress its snapshots (zoo.cfg's
    snapshot.compression.method) writes snapshot.<zxid>.gz or .snappy and
    nothing else; the import reads the newest of them and the log after it."""
    zk_srv = ZkServer(kind="apache")
    with open(zk_srv.cfg, "a") as f:
        f.write("snapCount=100\nsnapshot.compression.method=%s\n" % method)
    zk_srv.start()
    zkrs_srv = ZkServer(kind="zkrs")
    try:
        zk = client(zk_srv.port)
        workload(zk)
        zk.stop()
        zk.close()
        zk_srv.restart()  # a snapshot of everything so far, then logged txns
        expected = write_then_kill(zk_srv, 30, "/after")
        v2 = os.path.join(zk_srv.data_dir, "version-2")
        snaps = sorted(n for n in os.listdir(v2) if n.startswith("snapshot."))
        assert snaps and all(n.endswith("." + method) for n in snaps), snaps
        assert len(snaps) >= 2, snaps  # the newest is not the empty first one

        res = run_import(zk_srv.data_dir, zkrs_srv.cfg)
        assert res.returncode == 0, res.stderr
        assert "." + method in res.stderr and "skipping" not in res.stderr, res.stderr
        assert_serves(zkrs_srv, expected)
    finally:
        zk_srv.cleanup()
        zkrs_srv.cleanup()


def jute_str(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def jute_node(path, data, czxid, cversion=0, pzxid=None):
    """A snapshot node record: path, data, ACL id (-1: open), StatPersisted."""
    stat = struct.pack(">qqqqiiiqq", czxid, czxid, 1000, 1000, 0, cversion, 0, 0,
                       pzxid if pzxid is not None else czxid)
    return jute_str(path) + jute_str(data) + struct.pack(">q", -1) + stat


def test_import_keeps_zxids_of_a_later_epoch():
    """Ensembles run in epochs >= 1, so zxids exceed 2^32: they become raft
    log indexes as they are, and the next write still gets a higher one."""
    zxid = (3 << 32) | 5
    body = struct.pack(">iiq", 0x5A4B534E, 2, -1) + struct.pack(">ii", 0, 0)
    body += jute_node("", "", 0, cversion=1, pzxid=zxid)
    body += jute_node("/zookeeper", "", 0)
    body += jute_node("/zookeeper/quota", "", 0)
    body += jute_node("/x", "hi", zxid)
    body += jute_str("/")
    body += struct.pack(">q", zlib.adler32(body)) + jute_str("/")
    srv = ZkServer(kind="zkrs")
    zk_dir = os.path.join(srv.workdir, "zk", "version-2")
    os.makedirs(zk_dir)
    with open(os.path.join(zk_dir, "snapshot.%x" % zxid), "wb") as f:
        f.write(body)
    try:
        res = run_import(os.path.dirname(zk_dir), srv.cfg)
        assert res.returncode == 0, res.stderr
        srv.start()
        zk = client(srv.port)
        data, stat = zk.get("/x")
        assert (data, stat.czxid, stat.mzxid) == (b"hi", zxid, zxid)
        assert zk.get("/")[1].pzxid == zxid
        zk.create("/y", b"new")
        assert zk.exists("/y").czxid > zxid
        zk.stop()
        zk.close()
        srv.restart()  # and again after a restart, from the log
        zk = client(srv.port)
        assert zk.get("/y")[0] == b"new"
        zk.create("/z")
        assert zk.exists("/z").czxid > zk.exists("/y").czxid
        zk.stop()
        zk.close()
    finally:
        srv.cleanup()


def test_import_refuses_a_dir_without_snapshot():
    srv = ZkServer(kind="zkrs")
    empty = os.path.join(srv.workdir, "zk")
    os.makedirs(os.path.join(empty, "version-2"))
    try:
        res = run_import(empty, srv.cfg)
        assert res.returncode == 2
        assert "no ZooKeeper snapshot" in res.stderr
        assert not os.path.exists(os.path.join(srv.data_dir, "zkrs"))
    finally:
        srv.cleanup()


def test_import_reads_logs_from_a_separate_data_log_dir():
    zk_srv = ZkServer(kind="apache")
    log_dir = os.path.join(zk_srv.workdir, "txlog")
    with open(zk_srv.cfg, "a") as f:
        f.write("dataLogDir=%s\n" % log_dir)
    zk_srv.start()
    zkrs_srv = ZkServer(kind="zkrs")
    try:
        expected = write_then_kill(zk_srv, 10, "/logged")
        res = subprocess.run([os.environ["ZKRS_BIN"], "import", "--zk-data-dir", zk_srv.data_dir,
                              "--zk-data-log-dir", log_dir, "--config", zkrs_srv.cfg],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        assert_serves(zkrs_srv, expected)
    finally:
        zk_srv.cleanup()
        zkrs_srv.cleanup()
