"""Writers and checks shared by the ensemble tests."""

import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (
    NodeExistsError,
    ConnectionClosedError,
    ConnectionLoss,
    OperationTimeoutError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState

# Outcomes of a write that leave it unknown (may or may not have committed).
UNKNOWN = (ConnectionLoss, SessionExpiredError, OperationTimeoutError,
           ConnectionClosedError, KazooTimeoutError)


class Writer(threading.Thread):
    """Writes create(prefix + "%05d") with unique data until stopped (at most
    `limit` writes). Records acknowledged writes, writes with an unknown
    outcome, unexpected errors, and the client's state changes."""

    def __init__(self, zk, name, prefix, sequential=False, limit=100000, pause=0.0):
        super().__init__(daemon=True, name="writer-" + name)
        self.zk = zk
        self.tag = name
        self.prefix = prefix
        self.sequential = sequential
        self.limit = limit
        self.pause = pause
        self.stop_ev = threading.Event()
        self.acked = {}      # data -> path
        self.unknown = []    # data of writes with unknown outcome
        self.errors = []     # (data, repr(exc)) unexpected
        self.ack_times = []  # monotonic time of each ack
        self.states = []
        zk.add_listener(lambda s: self.states.append((time.monotonic(), s)))

    def run(self):
        for k in range(self.limit):
            if self.stop_ev.is_set():
                return
            data = ("%s-%05d" % (self.tag, k)).encode()
            path = self.prefix if self.sequential else self.prefix + "%05d" % k
            try:
                got = self.zk.create_async(path, data, sequence=self.sequential).get(timeout=10)
                self.acked[data] = got
                self.ack_times.append(time.monotonic())
            except UNKNOWN:
                self.unknown.append(data)
                self.stop_ev.wait(0.05)
            except Exception as e:  # noqa: BLE001
                self.errors.append((data, repr(e)))
                self.stop_ev.wait(0.05)
            if self.pause:
                self.stop_ev.wait(self.pause)

    def acks_after(self, t):
        return sum(1 for x in self.ack_times if x > t)

    def stop(self, timeout=20):
        self.stop_ev.set()
        self.join(timeout)
        assert not self.is_alive(), "writer %s did not stop" % self.tag

    def lost(self):
        return any(s == KazooState.LOST for _, s in self.states)


def member_client(member, timeout=4.0):
    """A client bound to exactly one member."""
    zk = KazooClient(hosts=member.hostport, timeout=timeout)
    zk.start(timeout=15)
    return zk


def read_tree(zk, path):
    """sync(path), then {child: data} under path (async gets, bounded)."""
    zk.sync(path)
    kids = zk.get_children(path)
    asyncs = [(k, zk.get_async(path + "/" + k)) for k in kids]
    return {k: a.get(timeout=20)[0] for k, a in asyncs}


def tree_on(member, path):
    zk = member_client(member)
    try:
        return read_tree(zk, path)
    finally:
        zk.stop()
        zk.close()


def connected_to(zk):
    """host:port of the member the kazoo client is connected to, or None."""
    try:
        sock = zk._connection._socket
        if sock is None or not zk.connected:
            return None
        h, p = sock.getpeername()[:2]
        return "%s:%d" % (h, p)
    except OSError:
        return None


def kill_leader_to_next_ack(ens, zk, path, limit=60.0):
    """SIGKILLs the leader while `zk` does one sequential create at a time
    under `path`; returns seconds from the kill to the next acknowledged
    create (None if none within `limit`). The killed member is restarted
    and the ensemble serves again when this returns."""
    leader = ens.leader(timeout=60)
    zk.create(path + "/n", b"", sequence=True)
    t0 = time.monotonic()
    leader.kill()
    dt = None
    while time.monotonic() - t0 < limit:
        try:
            zk.create_async(path + "/n", b"", sequence=True).get(timeout=5)
            dt = time.monotonic() - t0
            break
        except NodeExistsError:
            continue
        except UNKNOWN:
            time.sleep(0.01)
    leader.wait_port_free(30)
    leader.start()
    ens.wait_serving(90)
    return dt
