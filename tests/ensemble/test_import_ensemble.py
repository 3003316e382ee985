"""`zkrs import` into a 3-member ensemble: the same ZooKeeper dataDir is
imported with each member's zoo.cfg, the members start from it as one
group (each holds the same first snapshot, with every voter in it), serve
exactly what ZooKeeper served on every member, and keep replicating with
zxids above the imported ones, also through a leader change."""

import os
import subprocess

import pytest
from kazoo.client import KazooClient

from ensharness import wait_until
from ensutil import member_client
from zkharness import ZkServer


def read_all(zk, path="/", out=None):
    out = {} if out is None else out
    data, stat = zk.get(path)
    out[path] = (data, stat.czxid, stat.mzxid, stat.version, stat.cversion, stat.pzxid)
    for child in zk.get_children(path):
        read_all(zk, path.rstrip("/") + "/" + child, out)
    return out


@pytest.mark.timeout(180)
def test_an_imported_zookeeper_serves_from_every_member(ensemble_factory):
    zk_srv = ZkServer(kind="apache")
    with open(zk_srv.cfg, "a") as f:
        f.write("snapCount=50\n")
    zk_srv.start()
    try:
        zk = KazooClient(hosts=zk_srv.hostport, timeout=10)
        zk.start(timeout=15)
        zk.create("/imp", b"root")
        for i in range(80):
            zk.create("/imp/n%02d" % i, b"v%d" % i)
        for i in range(0, 80, 4):
            zk.set("/imp/n%02d" % i, b"set-%d" % i)
        zk.create("/imp/seq-", b"", sequence=True)
        zk.create("/imp/null", None)
        expected = {p: v for p, v in read_all(zk).items()}
        last = max(max(v[1], v[2], v[5]) for v in expected.values())
        zk.stop()
        zk.close()
        zk_srv.kill()

        ens = ensemble_factory(3, start=False)
        for m in ens.members:
            m.write_cfg()
            r = subprocess.run([os.environ["ZKRS_BIN"], "import", "--zk-data-dir", zk_srv.data_dir,
                                "--config", m.cfg], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
        ens.start()
        leader = ens.leader()
        for m in ens.members:
            c = member_client(m)
            c.sync("/")
            got = read_all(c)
            for path, want in expected.items():
                if path.startswith("/zookeeper"):
                    continue  # the ensemble's own config node differs
                assert got.get(path) == want, (m, path)
            c.stop()

        c = member_client([m for m in ens.members if m is not leader][0])
        stat = c.set("/imp/n01", b"after")
        assert stat.mzxid > last
        leader.kill()
        ens.leader(exclude=(leader,))
        stat2 = c.retry(c.set, "/imp/n02", b"after-failover")
        assert stat2.mzxid > stat.mzxid
        c.stop()
    finally:
        zk_srv.cleanup()
