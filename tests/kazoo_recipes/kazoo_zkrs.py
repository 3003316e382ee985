"""A pytest plugin that runs kazoo's own test modules with zkrs in place of
kazoo and Java: every client kazoo's harness (`KazooTestHarness`) builds is
a `zkrs.Client`, and the cluster it starts is a 3-member zkrs ensemble in
this process, with kazoo's zoo.cfg settings (tickTime 2000).

Two harness methods reach into kazoo's connection internals
(`client._call(_SESSION_EXPIRED)` to break a connection); here they use
`zkrs.testing`'s helpers, which do the same from outside over the wire.
zkrs's errors are made catchable as kazoo's (`zkrs.kazoo_compat`), as a
user switching clients would do.

Use: `pytest -p kazoo_zkrs --pyargs kazoo.tests.test_lock ...` with this
folder on PYTHONPATH (scripts/kazoo-recipe-tests.sh does it). With
KAZOO_CLIENT=kazoo the clients stay kazoo's own, for comparison.
"""

import os
import threading

import kazoo.testing.harness as harness
from kazoo.protocol.states import KazooState

import zkrs
import zkrs.kazoo_compat
import zkrs.testing

zkrs.kazoo_compat.install()


class _Server:
    """One member as kazoo's harness sees it."""

    def __init__(self, cluster, index):
        self._cluster = cluster
        self.index = index

    @property
    def address(self):
        return self._cluster.addresses[self.index]

    @property
    def running(self):
        return self._cluster.ensemble is not None


class ZkrsCluster:
    """kazoo's `ZookeeperCluster` surface over a `zkrs.Ensemble`."""

    def __init__(self, size=3):
        self.size = size
        self.ensemble = None
        self.addresses = []

    def __iter__(self):
        return iter([_Server(self, i) for i in range(self.size)])

    def __getitem__(self, i):
        return _Server(self, i)

    def start(self):
        if self.ensemble is None:
            self.ensemble = zkrs.Ensemble(members=self.size, tick_time=2000)
            self.addresses = self.ensemble.connect_string.split(",")

    def stop(self):
        if self.ensemble is not None:
            self.ensemble.stop()
            self.ensemble = None

    terminate = stop

    def get_logs(self, num_lines=100):
        return []


_CLUSTER = ZkrsCluster()


def _get_global_cluster():
    return _CLUSTER


def _get_client(self, **client_options):
    client_options.setdefault("timeout", self.DEFAULT_CLIENT_TIMEOUT)
    c = zkrs.Client(self.hosts, **client_options)
    self._clients.append(c)
    return c


def _get_nonchroot_client(self):
    c = zkrs.Client(self.servers)
    self._clients.append(c)
    return c


def _break(self, expected_state, event_factory, breaker):
    """The harness's own steps: wait for the state, then for CONNECTED."""
    lost = event_factory()
    safe = event_factory()

    def watch_loss(state):
        if state == expected_state:
            lost.set()
        elif lost.is_set() and state == KazooState.CONNECTED:
            safe.set()
            return True

    self.client.add_listener(watch_loss)
    # The expiry helper blocks until the client has seen it: run it aside.
    threading.Thread(target=breaker, args=(self.client,), daemon=True).start()
    lost.wait(5)
    if not lost.is_set():
        raise Exception("Failed to get notified of broken connection.")
    safe.wait(15)
    if not safe.is_set():
        raise Exception("Failed to see client reconnect.")
    self.client.retry(self.client.get, "/")


def _lose_connection(self, event_factory):
    _break(self, KazooState.SUSPENDED, event_factory, zkrs.testing.drop_connection)


def _expire_session(self, event_factory):
    _break(self, KazooState.LOST, event_factory, zkrs.testing.expire_session)


harness.get_global_cluster = _get_global_cluster
# KAZOO_CLIENT=kazoo keeps kazoo's own client (and its harness's own
# connection breaking), for the same tests on the same zkrs ensemble.
if os.environ.get("KAZOO_CLIENT", "zkrs") == "zkrs":
    harness.KazooTestHarness._get_client = _get_client
    harness.KazooTestHarness._get_nonchroot_client = _get_nonchroot_client
    harness.KazooTestHarness.lose_connection = _lose_connection
    harness.KazooTestHarness.expire_session = _expire_session


def _known_failures():
    """class::test names from $KAZOO_KNOWN_FAILURES (one per line)."""
    path = os.environ.get("KAZOO_KNOWN_FAILURES")
    if not path:
        return set()
    with open(path) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def pytest_collection_modifyitems(config, items):
    skip = _known_failures()
    keep, gone = [], []
    for item in items:
        name = "%s::%s" % (item.cls.__name__ if item.cls else "", item.name)
        (gone if name in skip else keep).append(item)
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = keep


def pytest_unconfigure(config):
    _CLUSTER.stop()
