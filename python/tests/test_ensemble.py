"""zkrs.Ensemble in the test process serves zkrs.Client and kazoo alike,
and keeps serving when its leader member stops."""

import time

import pytest

import zkrs


def _retry(fn, timeout=20.0):
    """Calls fn until it stops failing with a connection-level error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (zkrs.ConnectionLoss, zkrs.OperationTimeoutError, zkrs.SessionExpiredError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_ensemble_serves_and_survives_leader_loss():
    from kazoo.client import KazooClient

    with zkrs.Ensemble(members=3) as ens:
        hosts = ens.connect_string
        assert len(hosts.split(",")) == 3
        leader = ens.leader
        assert leader in (0, 1, 2)

        with zkrs.Client(hosts, timeout=10.0) as zk:
            zk.create("/ens-zkrs", b"a")
        k = KazooClient(hosts)
        k.start(timeout=10)
        try:
            k.create("/ens-kazoo", b"b")
        finally:
            k.stop()
            k.close()

        ens.stop_member(leader)
        ens.stop_member(leader)  # idempotent
        with zkrs.Client(hosts, timeout=15.0) as zk:
            assert _retry(lambda: zk.get("/ens-kazoo"))[0] == b"b"
        k = KazooClient(hosts)
        k.start(timeout=15)
        try:
            assert k.get("/ens-zkrs")[0] == b"a"
        finally:
            k.stop()
            k.close()
        assert ens.leader not in (None, leader)

        ens.start_member(leader)
        assert ens.leader is not None
        with pytest.raises(zkrs.BadArgumentsError):
            ens.stop_member(7)
    assert "stopped" in repr(ens)
    ens.stop()  # idempotent
    assert ens.leader is None
    with pytest.raises(zkrs.BadArgumentsError):
        ens.start_member(0)


def test_ensemble_needs_a_voting_member():
    with pytest.raises(zkrs.ZkError):
        zkrs.Ensemble(members=0)
