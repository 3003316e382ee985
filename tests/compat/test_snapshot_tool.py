"""`zkrs snapshot inspect|dump`: a member's snapshot read without starting
the member, checksums verified; a damaged file is refused with a clear
error. Also `ZKRS_LOG_FORMAT=json`: the member's log lines are JSON."""

import glob
import json
import os
import shutil
import subprocess

import pytest
from kazoo.client import KazooClient

from zkharness import HOST, ZkServer, four_letter, server_kind

pytestmark = pytest.mark.skipif(server_kind() != "zkrs", reason="zkrs's own data files")


def tool(*args):
    return subprocess.run([os.environ["ZKRS_BIN"], "snapshot", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def data_dir():
    srv = ZkServer()
    with open(srv.cfg, "a") as f:
        f.write("snapCount=20\n")
    srv.start()
    zk = KazooClient(hosts=srv.hostport, timeout=10)
    zk.start(timeout=15)
    for i in range(60):
        zk.create("/snap/n%02d" % i, b"value-%d" % i, makepath=True)
    zk.create("/snap/null", None)
    zk.create("/snap/eph", b"mine", ephemeral=True)
    for i in range(30):  # past the next snapshot point, so it holds the above
        zk.set("/snap/n00", b"v%d" % i)
    sid = zk.client_id[0]
    mntr = dict(l.split("\t", 1) for l in four_letter(HOST, srv.port, "mntr").splitlines())
    assert int(mntr["zk_cnt_snapshottime"]) >= 1, mntr  # snapCount=20: several taken
    srv.kill()  # the session stays in the state
    yield srv.data_dir, sid
    zk.stop()
    zk.close()
    srv.cleanup()


def test_inspect_summarises_the_newest_snapshot(data_dir):
    d, _ = data_dir
    r = tool("inspect", d)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    assert lines["file"].startswith(os.path.join(d, "zkrs", "snapshots", "snap-"))
    assert int(lines["znodes"].split()[0]) >= 64  # /, /zookeeper..., /snap and 62 below
    assert "1 ephemeral" in lines["znodes"]
    assert lines["sessions"] == "1"


def test_dump_lists_every_znode_and_session(data_dir):
    d, sid = data_dir
    r = tool("dump", "--json", "--data", d)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    nodes = {n["path"]: n for n in doc["znodes"]}
    assert nodes["/snap/n05"]["data"] == "value-5"
    assert nodes["/snap/null"]["data"] is None
    assert nodes["/snap/eph"]["stat"]["ephemeral_owner"] == sid
    assert [s["id"] for s in doc["sessions"]] == [hex(sid)]
    text = tool("dump", d).stdout
    assert text.startswith("ZNode Details (count=") and "\n/snap/n05\n  cZxid = 0x" in text
    assert "Session Details (sid, timeout, ephemeralCount):\n%s, " % hex(sid) in text


def test_a_damaged_snapshot_is_refused(data_dir, tmp_path):
    d, _ = data_dir
    newest = sorted(glob.glob(os.path.join(d, "zkrs", "snapshots", "snap-*")))[-1]
    bad = str(tmp_path / "snap-bad")
    shutil.copy(newest, bad)
    with open(bad, "r+b") as f:
        f.seek(os.path.getsize(bad) // 2)
        f.write(b"\xff\xff\xff\xff")
    r = tool("inspect", bad)
    assert r.returncode == 1 and "checksum" in r.stderr
    r = tool("inspect", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "no zkrs snapshot" in r.stderr


def test_json_logs_on_request(tmp_path):
    srv = ZkServer()
    env = dict(os.environ, ZKRS_LOG_FORMAT="json")
    srv_log = str(tmp_path / "member.log")
    with open(srv_log, "wb") as out:
        p = subprocess.Popen([os.environ["ZKRS_BIN"], "server", "--config", srv.cfg],
                             stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            zk = KazooClient(hosts=srv.hostport, timeout=10)
            zk.start(timeout=15)
            zk.stop()
            zk.close()
        finally:
            p.kill()
            p.wait(10)
    srv.cleanup()
    records = [json.loads(l) for l in open(srv_log) if l.startswith("{")]
    assert any("serving clients" in r["fields"]["message"] for r in records), records[:3]
    assert all({"timestamp", "level", "fields"} <= set(r) for r in records)
