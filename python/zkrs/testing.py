"""Test support for code that uses ZooKeeper, without Java or Docker.

Installed as a pytest plugin (entry point ``pytest11``), so these fixtures
are there as soon as ``zkrs`` is installed:

- ``zk_member``: a fresh in-process member (tickTime 200 ms, so sessions
  expire fast), stopped after the test;
- ``zk_ensemble``: a fresh in-process 3-member ensemble;
- ``zk_client``: a started ``zkrs.Client`` of ``zk_member``.

And helpers for the failures code must survive:

- ``expire_session(client)``: the server expires the client's session now
  (its ephemerals go; the client sees LOST on its next contact, then opens
  a new session, as kazoo's does);
- ``drop_connection(client)``: the client's connection is cut; it
  reconnects with the same session (SUSPENDED, then CONNECTED);
- ``ensemble.stop_member(i)`` / ``ensemble.start_member(i)``: a member
  goes down and comes back (``ensemble.leader`` tells which leads).
"""

import socket
import struct
import time
from typing import Callable, Iterator, Optional, Tuple

import pytest

import zkrs

__all__ = ["expire_session", "drop_connection", "zk_member", "zk_ensemble", "zk_client"]

TICK_MS = 200


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def _read_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    (n,) = struct.unpack(">i", exactly(4))
    return exactly(n)


def _member_of(client: zkrs.Client) -> Tuple[str, int]:
    """The member the client is (or was last) connected to: taking the
    session over there is what drops the client's connection."""
    hosts = client.server or client.hosts.split("/", 1)[0].split(",")[0]
    host, _, port = hosts.rpartition(":")
    return host.strip("[]"), int(port)


def _take_over(
    client: zkrs.Client,
    close: bool,
    timeout: float = 10.0,
    cid: Optional[Tuple[int, bytes]] = None,
) -> bool:
    """Opens the client's session (or `cid`) on a connection of our own
    (ZooKeeper's wire handshake with its session id and password), which
    makes the member drop the client's connection; with `close`, a
    closeSession goes right behind the handshake. True once the session is
    gone."""
    cid = cid or client.client_id
    if cid is None:
        raise zkrs.ConnectionClosedError("the client is not started")
    session, passwd = cid
    hello = struct.pack(">iqiq", 0, 0, 10000, session)
    hello += struct.pack(">i", len(passwd)) + passwd + b"\x00"
    packets = _frame(hello)
    if close:
        packets += _frame(struct.pack(">ii", 1, -11))  # closeSession
    with socket.create_connection(_member_of(client), timeout=timeout) as sock:
        sock.sendall(packets)
        reply = _read_frame(sock)
        (_, _, got) = struct.unpack(">iiq", reply[:16])
        if got != session:
            return True  # the server no longer knows the session
        if close:
            _read_frame(sock)
            return True
    return False


def expire_session(client: zkrs.Client, timeout: float = 10.0) -> None:
    """Ends the client's session on the server, as an expiry does: its
    ephemeral nodes are deleted and watchers told; the client learns it
    when it next reconnects (listeners hear LOST, calls waiting on the old
    session raise SessionExpiredError) and then opens a new session, as
    kazoo's does. Returns once the client is connected in a new session."""
    started = client.client_id
    if started is None:
        raise zkrs.ConnectionClosedError("the client is not started")
    old: Tuple[int, bytes] = started
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The client reconnects as soon as we take its connection and can
        # take the session back before our close is read: then close again.
        _try(lambda: _take_over(client, close=True, timeout=timeout, cid=old))
        if _new_session(client, old[0], min(deadline, time.monotonic() + 2.0)):
            return
    raise AssertionError("the client did not see its session expire")


def _new_session(client: zkrs.Client, old: int, until: float) -> bool:
    """Waits until `until` for the client to be connected in a session
    other than `old`. Calls made around the expiry may fail with
    SessionExpiredError (the server answers so for a session it closes)."""
    while time.monotonic() < until:
        try:
            client.exists("/")
        except (zkrs.SessionExpiredError, zkrs.ConnectionLoss):
            pass
        now = client.client_id
        if now is None or (now[0] != old and client.connected):
            return True
        time.sleep(0.05)
    return False


def _try(step: Callable[[], bool]) -> bool:
    try:
        return bool(step())
    except (ConnectionError, OSError):
        return False


def drop_connection(client: zkrs.Client) -> None:
    """Cuts the client's connection to its member; the session lives on
    and the client reconnects with it (SUSPENDED, then CONNECTED)."""
    _take_over(client, close=False)


@pytest.fixture
def zk_member() -> Iterator[zkrs.Member]:
    """A fresh member in this process; stopped (data removed) afterwards."""
    with zkrs.Member(tick_time=TICK_MS) as m:
        yield m


@pytest.fixture
def zk_ensemble() -> Iterator[zkrs.Ensemble]:
    """A fresh 3-member ensemble in this process."""
    with zkrs.Ensemble(members=3, tick_time=TICK_MS) as e:
        yield e


@pytest.fixture
def zk_client(zk_member: zkrs.Member) -> Iterator[zkrs.Client]:
    """A started client of ``zk_member`` (4 s session)."""
    c = zkrs.Client(zk_member.connect_string, timeout=4.0)
    c.start()
    try:
        yield c
    finally:
        c.stop()

