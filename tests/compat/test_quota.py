"""Quotas as ZooKeeper 3.8 keeps them: zkCli's setquota writes
/zookeeper/quota/<path>/zookeeper_limits; the server keeps
zookeeper_stats current; with enforceQuota=true a hard limit refuses the
write (QuotaExceeded) and a limits node that does not parse refuses writes
under it (MarshallingError) while deletes still work. Run against both
servers."""

import subprocess

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import MarshallingError, QuotaExceededError

from zkharness import ZkServer, java_base_cmd


@pytest.fixture
def enforcing():
    srv = ZkServer()
    with open(srv.cfg, "a") as f:
        f.write("enforceQuota=true\n")
    srv.start()
    c = KazooClient(hosts=srv.hostport, timeout=10)
    c.start(timeout=30)
    yield srv, c
    c.stop()
    c.close()
    srv.cleanup()


def zkcli(srv, *args):
    cmd = java_base_cmd(srv.workdir) + ["org.apache.zookeeper.ZooKeeperMain", "-server", srv.hostport, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


def stats(c, path):
    return c.get("/zookeeper/quota%s/zookeeper_stats" % path)[0]


def test_count_hard_limit_and_stats(enforcing):
    srv, c = enforcing
    c.create("/q", b"12345")
    c.create("/q/a", b"1")
    rc, out = zkcli(srv, "setquota", "-N", "3", "/q")
    assert rc == 0, out
    assert sorted(c.get_children("/zookeeper/quota/q")) == ["zookeeper_limits", "zookeeper_stats"]
    assert stats(c, "/q") == b"count=2,bytes=6"
    c.create("/q/b", b"22")
    assert stats(c, "/q") == b"count=3,bytes=8"
    with pytest.raises(QuotaExceededError):
        c.create("/q/c", b"3")
    assert c.exists("/q/c") is None
    c.set("/q/b", b"2222")  # bytes have no limit here
    c.delete("/q/a")
    assert stats(c, "/q") == b"count=2,bytes=9"
    c.create("/q/c", b"")  # room again
    rc, out = zkcli(srv, "listquota", "/q")
    assert "count=3,bytes=9" in out, out


def test_byte_hard_limit(enforcing):
    _, c = enforcing
    c.create("/b", b"")
    c.create("/zookeeper/quota/b/zookeeper_limits",
             b"count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=-1", makepath=True)
    c.create("/zookeeper/quota/b/zookeeper_stats", b"count=0,bytes=0")
    c.create("/b/x", b"123456")
    with pytest.raises(QuotaExceededError):
        c.set("/b/x", b"12345678901")
    with pytest.raises(QuotaExceededError):
        c.create("/b/y", b"12345")
    assert c.get("/b/x")[0] == b"123456"
    assert stats(c, "/b") == b"count=2,bytes=6"


def test_garbage_limits_refuse_writes_not_deletes(enforcing):
    _, c = enforcing
    c.create("/g", b"")
    c.create("/g/old", b"x")
    c.create("/zookeeper/quota/g/zookeeper_limits", b"count=2,bytes=-1", makepath=True)
    c.create("/zookeeper/quota/g/zookeeper_stats", b"")
    c.set("/zookeeper/quota/g/zookeeper_limits", b"garbage")
    for write in (lambda: c.create("/g/new", b"y"), lambda: c.set("/g/old", b"z")):
        with pytest.raises(MarshallingError):
            write()
        c.start(timeout=30)  # ZooKeeper may drop the connection too
    assert c.exists("/g/new") is None and c.get("/g/old")[0] == b"x"
    c.delete("/g/old")
    assert c.exists("/g/old") is None
