"""kazoo: session close, expiry, and reconnect with the same session."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from kazoo.protocol.states import EventType, KazooState

from compat_util import Events, wait_for

CHILD = r"""
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=float(sys.argv[3]))
zk.start(timeout=15)
zk.create(sys.argv[2], b"owned", ephemeral=True)
print("%d" % zk.client_id[0], flush=True)
time.sleep(60)   # bounded: the test kills us long before this
"""


def test_close_removes_ephemerals_at_once(client_factory, base):
    a = client_factory()
    b = client_factory()
    a.create(base + "/e1", ephemeral=True)
    a.create(base + "/e2", ephemeral=True, sequence=True)
    a.create(base + "/keep")
    ev = Events()
    assert b.exists(base + "/e1", watch=ev)
    a.stop()  # sends closeSession and waits for its reply
    assert b.exists(base + "/e1") is None
    assert b.get_children(base) == ["keep"]
    e = ev.get()
    assert e.type == EventType.DELETED and e.path == base + "/e1"


def test_session_expiry_removes_ephemerals(server, zk, base):
    # Client A lives in a child process; SIGKILL cuts its connection without
    # closing its session, so only session expiry can remove its node.
    path = base + "/eph"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, server.hostport, path, "1.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _readline(proc, 20)
        sid = int(line)
        ev = Events()
        st = zk.exists(path, watch=ev)
        assert st is not None and st.ephemeralOwner == sid
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        e = ev.get(timeout=15)
        took = time.monotonic() - t0
        assert e.type == EventType.DELETED and e.path == path
        assert zk.exists(path) is None
        # negotiated timeout 1 s: not removed instantly, and not long after
        assert 0.3 < took < 10, took
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _readline(proc, timeout):
    out = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out or not out[0].strip():
        proc.kill()
        raise AssertionError("child client did not start: %s" % proc.stderr.read())
    return out[0].strip()


def test_reconnect_keeps_session_and_ephemerals(client_factory, base):
    a = client_factory(timeout=10.0)
    b = client_factory()
    states = []
    a.add_listener(lambda s: states.append(s))
    a.create(base + "/e", b"x", ephemeral=True)
    sid, passwd = a.client_id
    # drop the TCP connection under kazoo without closing the session
    a._connection._socket.shutdown(socket.SHUT_RDWR)
    wait_for(lambda: KazooState.SUSPENDED in states, timeout=10, what="SUSPENDED")
    wait_for(lambda: states and states[-1] == KazooState.CONNECTED, timeout=15, what="reconnect")
    assert KazooState.LOST not in states
    assert a.client_id == (sid, passwd)
    st = b.exists(base + "/e")
    assert st is not None and st.ephemeralOwner == sid
    a.set(base + "/e", b"after")  # the session works after reconnecting
    assert b.get(base + "/e")[0] == b"after"


def test_watch_after_reconnect(client_factory, base):
    # kazoo itself drops one-shot watchers on a disconnect (hands them a NONE
    # event) instead of re-sending them; a watch set after the reconnect works.
    a = client_factory(timeout=10.0)
    b = client_factory()
    states = []
    a.add_listener(lambda s: states.append(s))
    a.create(base + "/n", b"0")
    ev = Events()
    a.get(base + "/n", watch=ev)
    a._connection._socket.shutdown(socket.SHUT_RDWR)
    assert ev.get(timeout=10).type == EventType.NONE
    wait_for(lambda: states and states[-1] == KazooState.CONNECTED and
             KazooState.SUSPENDED in states, timeout=15, what="reconnect")
    a.get(base + "/n", watch=ev)
    b.set(base + "/n", b"1")
    assert ev.get(timeout=5).type == EventType.CHANGED


def test_session_ids_distinct(client_factory):
    ids = {client_factory().client_id[0] for _ in range(3)}
    assert len(ids) == 3 and 0 not in ids
