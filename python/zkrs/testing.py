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
  goes down and comes back (``ensemble.leader`` tells which leads);
- ``ensemble.isolate_member(i)`` / ``ensemble.heal_member(i)``: a member
  is cut off from the others by a partition (its clients still reach it,
  it stops serving them, they move with their sessions) and rejoins.
"""

from typing import Iterator

import pytest

import zkrs

__all__ = ["expire_session", "drop_connection", "zk_member", "zk_ensemble", "zk_client"]

TICK_MS = 200


def expire_session(client: zkrs.Client, timeout: float = 10.0) -> None:
    """Ends the client's session on the server, as an expiry does: its
    ephemeral nodes are deleted and watchers told; the client learns it
    when it next reconnects (listeners hear LOST, calls waiting on the old
    session raise SessionExpiredError) and then opens a new session, as
    kazoo's does. Returns once the client is connected in a new session.
    (The core takes the session over on the wire: any server will do.)"""
    try:
        client._expire_session_for_test(timeout)
    except zkrs.OperationTimeoutError:
        raise AssertionError("the client did not see its session expire") from None


def drop_connection(client: zkrs.Client) -> None:
    """Cuts the client's connection to its member; the session lives on
    and the client reconnects with it (SUSPENDED, then CONNECTED)."""
    client._drop_connection_for_test()


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

