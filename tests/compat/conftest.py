"""Fixtures for the zkrs compatibility suite.

ZK_SERVER=apache  -> Apache ZooKeeper 3.8 (Debian package), ZooKeeperServerMain
ZK_SERVER=zkrs    -> $ZKRS_BIN (default target/debug/zkrs) server --config zoo.cfg

Both read the same generated zoo.cfg (see zkharness.write_cfg).
"""

import os
import sys
import time
import uuid

import pytest
from kazoo.client import KazooClient

sys.path.insert(0, os.path.dirname(__file__))

import zkharness  # noqa: E402
from zkharness import ZkServer  # noqa: E402


def pytest_report_header(config):
    return "zk compat: ZK_SERVER=%s" % zkharness.server_kind()


@pytest.fixture(scope="session")
def shared_server():
    srv = ZkServer()
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def server(shared_server):
    """The session-wide server, checked alive before and after each test.
    A test during which the server process died fails, and the server is
    restarted (same data dir) for the tests after it. If a restart fails,
    the remaining tests fail at once instead of each waiting for it."""
    srv = shared_server
    if getattr(srv, "broken", None):
        pytest.fail("server could not be restarted earlier: %s" % srv.broken)
    if not srv.alive():
        _restart_or_break(srv)
    yield srv
    if not srv.alive():
        code = srv.proc.returncode
        log = srv.log_tail()
        _restart_or_break(srv)
        pytest.fail("server process died during the test (exit %s); log tail:\n%s" % (code, log))


def _restart_or_break(srv):
    try:
        srv.restart()
    except Exception as e:
        srv.broken = str(e)[:2000]
        raise


@pytest.fixture
def own_server():
    """A private server for tests that kill or restart it."""
    srv = ZkServer()
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


def _new_client(hostport, timeout=10.0, **kw):
    zk = KazooClient(hosts=hostport, timeout=timeout, **kw)
    zk.start(timeout=15)
    return zk


@pytest.fixture
def client_factory(server):
    """make(**kazoo_kwargs) -> started KazooClient; all stopped at teardown."""
    made = []

    def make(hostport=None, **kw):
        zk = _new_client(hostport or server.hostport, **kw)
        made.append(zk)
        return zk

    yield make
    for zk in made:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass


@pytest.fixture
def zk(client_factory):
    return client_factory()


@pytest.fixture
def base(zk, request):
    """A fresh, empty persistent znode for this test: /compat/<test>-<rand>."""
    name = "%s-%s" % (request.node.name.replace("[", "_").replace("]", "").replace("/", "_")[:60],
                      uuid.uuid4().hex[:8])
    path = "/compat/" + name
    zk.ensure_path("/compat")
    zk.create(path)
    return path


from compat_util import wait_for  # noqa: E402


@pytest.fixture
def waiter():
    return wait_for
