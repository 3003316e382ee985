"""Debian's zkCli (org.apache.zookeeper.ZooKeeperMain), one command per run."""

import re
import subprocess
import uuid

import pytest

from compat_util import wait_for
from zkharness import java_base_cmd


# zkCli prints its connection event from the event thread, so these lines
# can land in the middle of a command's output (on either server).
CONNECTED_EVENT = re.compile(r"\n*WATCHER::\n+WatchedEvent state:SyncConnected type:None path:null\n")


def zkcli(server, *args, timeout=60):
    cmd = java_base_cmd(server.workdir) + [
        "org.apache.zookeeper.ZooKeeperMain", "-server", server.hostport, *args,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, CONNECTED_EVENT.sub("\n", r.stdout) + r.stderr


@pytest.fixture
def cli_base(zk):
    zk.ensure_path("/compat")
    return "/compat/cli-" + uuid.uuid4().hex[:8]


STAT_RE = re.compile(
    r"cZxid = 0x[0-9a-f]+\nctime = .+\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\n"
    r"cversion = (\d+)\ndataVersion = (\d+)\naclVersion = (\d+)\nephemeralOwner = (0x[0-9a-f]+)\n"
    r"dataLength = (\d+)\nnumChildren = (\d+)"
)


def test_zkcli_scripted_session(server, zk, cli_base):
    b = cli_base
    rc, out = zkcli(server, "create", b, "data1")
    assert rc == 0 and "Created %s" % b in out, out
    rc, out = zkcli(server, "get", b)
    assert rc == 0 and "\ndata1\n" in out, out
    rc, out = zkcli(server, "set", b, "data-two")
    assert rc == 0, out
    rc, out = zkcli(server, "get", "-s", b)
    assert rc == 0 and "\ndata-two\n" in out, out
    m = STAT_RE.search(out)
    assert m, out
    assert m.groups() == ("0", "1", "0", "0x0", "8", "0")
    rc, out = zkcli(server, "create", b + "/kid", "k")
    assert rc == 0
    rc, out = zkcli(server, "ls", b)
    assert rc == 0 and "[kid]" in out, out
    rc, out = zkcli(server, "stat", b)
    m = STAT_RE.search(out)
    assert rc == 0 and m, out
    assert (m.group(1), m.group(6)) == ("1", "1")
    # ephemeral: gone once zkCli's session ends (it may exit without
    # closing it: then expiry, at most maxSessionTimeout = 4 s, removes it)
    rc, out = zkcli(server, "create", "-e", b + "/eph", "e")
    assert rc == 0 and "Created %s/eph" % b in out, out
    wait_for(lambda: zk.exists(b + "/eph") is None, timeout=15, what="zkCli ephemeral gone")
    # sequential: suffix from the parent's counter (2 creates so far)
    rc, out = zkcli(server, "create", "-s", b + "/s-", "x")
    assert rc == 0 and "Created %s/s-0000000002" % b in out, out
    rc, out = zkcli(server, "getAcl", b)
    assert rc == 0 and "'world,'anyone\n: cdrwa" in out, out
    rc, out = zkcli(server, "delete", b + "/kid")
    assert rc == 0, out
    assert sorted(zk.get_children(b)) == ["s-0000000002"]
    assert zk.get(b)[0] == b"data-two"


def test_zkcli_errors(server, zk, cli_base):
    b = cli_base
    zk.create(b, b"v")
    zk.create(b + "/kid")
    rc, out = zkcli(server, "get", b + "/nope")
    assert rc == 1 and "Node does not exist: %s/nope" % b in out, out
    rc, out = zkcli(server, "create", b)
    assert rc == 1 and "Node already exists: %s" % b in out, out
    rc, out = zkcli(server, "delete", b)
    assert rc == 1 and "Node not empty: %s" % b in out, out
    rc, out = zkcli(server, "set", "-v", "7", b, "x")
    assert rc == 1 and "version No is not valid : %s" % b in out, out
    assert zk.get(b)[0] == b"v"


def test_zkcli_container_and_ttl(server, zk, cli_base):
    b = cli_base
    zk.create(b)
    rc, out = zkcli(server, "create", "-c", b + "/c")
    assert rc == 0 and "Created %s/c" % b in out, out
    rc, out = zkcli(server, "create", "-t", "500", b + "/t", "x")
    assert rc == 0 and "Created %s/t" % b in out, out
    assert zk.exists(b + "/c") and zk.exists(b + "/t")
