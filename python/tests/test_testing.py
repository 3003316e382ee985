"""The pytest plugin zkrs.testing: its fixtures come with the installed
package, and its helpers really expire a session and cut a connection."""

import statistics
import threading
import time

import pytest

import zkrs
from zkrs.testing import drop_connection, expire_session


def test_member_fixture_and_client(zk_member, zk_client):
    assert zk_member.running
    zk_client.create("/fixture", b"x")
    assert zk_client.get("/fixture")[0] == b"x"


def test_expire_session_removes_ephemerals_and_reports_lost(zk_member, zk_client):
    states = []
    zk_client.add_listener(states.append)
    zk_client.create("/eph", ephemeral=True)
    with zkrs.Client(zk_member.connect_string) as other:
        gone = threading.Event()
        other.exists("/eph", watch=lambda ev: gone.set())
        expire_session(zk_client)
        assert gone.wait(5), "the ephemeral outlived its session"
        assert other.exists("/eph") is None
    assert "LOST" in states
    assert zk_client.exists("/eph") is None  # the client is in a new session


def test_drop_connection_keeps_the_session(zk_client):
    states = []
    zk_client.add_listener(states.append)
    session = zk_client.client_id[0]
    zk_client.create("/kept", ephemeral=True)
    drop_connection(zk_client)
    deadline = time.monotonic() + 10
    while "SUSPENDED" not in states and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "SUSPENDED" in states
    assert zk_client.exists("/kept") is not None  # waits for the reconnect
    assert zk_client.client_id[0] == session
    assert states[-1] == "CONNECTED"


def test_ensemble_fixture_survives_a_member_stop(zk_ensemble):
    with zkrs.Client(zk_ensemble.connect_string) as zk:
        zk.create("/e", b"1")
        leader = zk_ensemble.leader
        zk_ensemble.stop_member(leader)
        zk.set("/e", b"2")  # the other two still make a quorum
        zk_ensemble.start_member(leader)
        assert zk.get("/e")[0] == b"2"


def _retry(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (zkrs.ConnectionLoss, zkrs.OperationTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_an_isolated_leader_is_replaced_and_its_sessions_move(zk_ensemble):
    hosts = zk_ensemble.connect_string.split(",")
    old = zk_ensemble.leader
    with zkrs.Client(zk_ensemble.connect_string, timeout=6.0) as zk:
        zk.create("/iso-eph", ephemeral=True)
        session = zk.client_id[0]
        zk_ensemble.isolate_member(old)
        deadline = time.monotonic() + 15
        while zk_ensemble.leader in (None, old):
            assert time.monotonic() < deadline, "no new leader while cut off"
            time.sleep(0.02)
        _retry(lambda: zk.create("/iso-during", b"x"))
        assert zk.client_id[0] == session
        assert zk.exists("/iso-eph") is not None
        zk_ensemble.heal_member(old)
    with zkrs.Client(hosts[old], timeout=6.0) as back:
        _retry(lambda: back.sync("/"))
        assert back.get("/iso-during")[0] == b"x"
    with pytest.raises(zkrs.BadArgumentsError):
        zk_ensemble.isolate_member(9)


def test_ensemble_start_up_time():
    """Prints the median of 10 in-process 3-member ensemble start-ups
    (reported in the closing note; no timing assertion)."""
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        e = zkrs.Ensemble(members=3, tick_time=200)
        times.append(time.perf_counter() - t0)
        with zkrs.Client(e.connect_string) as zk:
            zk.create("/up")
        e.stop()
    print("3-member in-process ensemble start-up: median %.3f s, max %.3f s"
          % (statistics.median(times), max(times)))


def test_a_new_session_follows_lost(zk_client):
    """kazoo's behaviour: after LOST the client opens a new session by
    itself; `start()` meanwhile is harmless."""
    states = []
    zk_client.add_listener(states.append)
    old = zk_client.client_id[0]
    expire_session(zk_client)
    zk_client.start()
    zk_client.create("/after-lost", ephemeral=True)
    assert zk_client.state == "CONNECTED"
    assert zk_client.client_id[0] != old
    assert zk_client.exists("/after-lost").ephemeralOwner == zk_client.client_id[0]
    assert "LOST" in states and states[-1] == "CONNECTED"


def test_client_id_resumes_a_session(zk_member, zk_client):
    zk_client.create("/mine", ephemeral=True)
    with zkrs.Client(zk_member.connect_string, client_id=zk_client.client_id) as twin:
        assert twin.client_id[0] == zk_client.client_id[0]
        # zk_client reconnects and may take the connection back for a
        # moment (the member keeps the newest): retry through that.
        assert twin.retry(twin.exists, "/mine").ephemeralOwner == zk_client.client_id[0]
