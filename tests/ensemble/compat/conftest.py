"""ZK_SERVER=zkrs-ensemble: the kazoo compatibility tests of tests/compat
against a 3-member zkrs ensemble (separate processes on 127.0.0.x).

The fixtures have the names and behaviour of tests/compat/conftest.py, but
`server` is a member of a session-wide ensemble. Which member kazoo gets is
ZK_ENSEMBLE_CONNECT: `follower` (default: every client on the same follower,
so writes are forwarded to the leader), `leader`, or `all` (the full list).

Not run here (need a single server process): test_durability.py (kill -9
and restart of a standalone server) and the non-kazoo files (zkCli, C,
node, raw bad-input, 4lw wording of a standalone server).
"""

import os
import sys
import uuid

import pytest
from kazoo.client import KazooClient

HERE = os.path.dirname(os.path.abspath(__file__))
ENS = os.path.dirname(HERE)
COMPAT = os.path.join(os.path.dirname(ENS), "compat")
for p in (ENS, COMPAT):
    if p not in sys.path:
        sys.path.insert(0, p)

import ensharness  # noqa: E402
from compat_util import wait_for  # noqa: E402

os.environ.setdefault("ZK_SERVER", "zkrs-ensemble")
CONNECT = os.environ.get("ZK_ENSEMBLE_CONNECT", "follower")
assert CONNECT in ("follower", "leader", "all"), CONNECT


def pytest_report_header(config):
    return "zk compat: ZK_SERVER=zkrs-ensemble (3 members), clients on: %s" % CONNECT


class EnsembleServer:
    """What the compat tests use of a server: hostport, alive()."""

    def __init__(self, ens):
        self.ens = ens
        self.pick()

    def pick(self):
        if CONNECT == "all":
            self.member = None
            self.hostport = self.ens.connect_string()
        else:
            self.member = (self.ens.leader() if CONNECT == "leader"
                           else self.ens.followers()[0])
            self.hostport = self.member.hostport

    def alive(self):
        return all(m.alive() for m in self.ens.members)

    def log_tail(self):
        return self.ens.logs_tail(30)


@pytest.fixture(scope="session")
def shared_server():
    ens = ensharness.Ensemble(3, base_ip=int(os.environ.get("ZKRS_ENS_COMPAT_BASE", "31")))
    try:
        ens.start()
        yield EnsembleServer(ens)
    finally:
        ens.cleanup()


@pytest.fixture
def server(shared_server):
    srv = shared_server
    if not srv.alive():
        pytest.fail("an ensemble member died earlier:\n%s" % srv.log_tail())
    yield srv
    if not srv.alive():
        pytest.fail("an ensemble member died during the test:\n%s" % srv.log_tail())


@pytest.fixture
def own_server():
    pytest.skip("needs a single server process (standalone kill -9/restart)")


@pytest.fixture
def client_factory(server):
    made = []

    def make(hostport=None, timeout=10.0, **kw):
        zk = KazooClient(hosts=hostport or server.hostport, timeout=timeout, **kw)
        made.append(zk)
        zk.start(timeout=15)
        return zk

    yield make
    for zk in made:
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def zk(client_factory):
    return client_factory()


@pytest.fixture
def base(zk, request):
    name = "%s-%s" % (request.node.name.replace("[", "_").replace("]", "").replace("/", "_")[:60],
                      uuid.uuid4().hex[:8])
    path = "/compat/" + name
    zk.ensure_path("/compat")
    zk.create(path)
    return path


@pytest.fixture
def waiter():
    return wait_for
