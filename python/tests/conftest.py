"""One zkrs.Member per test session, started inside the pytest process;
fresh zkrs and kazoo clients per test, each under a path of its own."""

import threading
import uuid

import pytest

import zkrs


@pytest.fixture(scope="session")
def member():
    with zkrs.Member() as m:
        yield m


@pytest.fixture
def zk(member):
    with zkrs.Client(member.connect_string, timeout=10.0) as c:
        yield c


@pytest.fixture
def kazoo(member):
    from kazoo.client import KazooClient

    k = KazooClient(member.connect_string)
    k.start(timeout=10)
    yield k
    k.stop()
    k.close()


@pytest.fixture
def root(zk):
    """A fresh znode for this test; removed afterwards."""
    path = "/t-" + uuid.uuid4().hex[:12]
    zk.create(path)
    yield path
    try:
        zk.delete(path, recursive=True)
    except zkrs.ZkError:
        pass


class Events:
    """Collects callback arguments; `wait(n)` blocks until n arrived."""

    def __init__(self):
        self.items = []
        self.threads = set()
        self._cond = threading.Condition()

    def __call__(self, item):
        with self._cond:
            self.items.append(item)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait(self, n=1, timeout=5.0):
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.items) >= n, timeout)
        assert ok, f"expected {n} callbacks, got {self.items}"
        return self.items


@pytest.fixture
def events():
    return Events()
