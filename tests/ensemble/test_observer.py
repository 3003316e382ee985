"""4. An observer gets every commit; losing it never blocks writes."""

import pytest
from kazoo.exceptions import NodeExistsError
from kazoo.retry import KazooRetry

from ensharness import wait_until
from ensutil import Writer, read_tree, tree_on


@pytest.mark.timeout(120)
def test_observer_gets_every_commit_and_never_blocks(ensemble_factory, clients):
    ens = ensemble_factory(3, observers=1)
    obs = ens.observers[0]
    assert obs.mode() == "observer"
    assert "Mode: observer" in obs.fourlw("srvr")
    assert "zk_server_state\tobserver" in obs.fourlw("mntr")
    parts = ens.participants

    # Writes through participants and through the observer (forwarded).
    admin = clients(ens.connect_string(parts))
    admin.create("/obs")
    via_obs = clients(obs.hostport)
    writers = [Writer(admin, "p", "/obs/p-", limit=150), Writer(via_obs, "o", "/obs/o-", limit=150)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert not w.is_alive()
        assert len(w.acked) == 150 and not w.unknown and not w.errors, (w.tag, w.unknown, w.errors)
    ref = tree_on(ens.leader(), "/obs")
    assert len(ref) == 300
    assert read_tree(via_obs, "/obs") == ref
    for m in parts:
        assert tree_on(m, "/obs") == ref

    # Kill the observer: writes keep going at once.
    obs.kill()
    w = Writer(admin, "after", "/obs/a-", limit=100)
    w.start()
    w.join(30)
    assert not w.is_alive() and len(w.acked) == 100 and not w.unknown, (w.unknown, w.errors)

    # With the observer and a follower down, 2 of 3 voters still commit
    # (test_observer_is_not_a_voter: the observer never makes a quorum).
    follower = [m for m in parts if m.mode() == "follower"][0]
    follower.kill()
    # `admin` may have been connected to that follower: its client moves to
    # another member, and a create whose connection broke may have gone
    # through already.
    def create_once():
        try:
            admin.create("/obs/one-follower-down", b"x")
        except NodeExistsError:
            pass

    KazooRetry(max_tries=-1, delay=0.1, max_delay=1, deadline=15)(create_once)

    # The observer comes back and catches up.
    follower.restart()
    obs.restart()
    ens.wait_serving(30)
    wait_until(lambda: obs.mode() == "observer", 20, what="observer back")
    ref = tree_on(ens.leader(), "/obs")
    assert len(ref) == 401
    assert tree_on(obs, "/obs") == ref


@pytest.mark.timeout(60)
def test_observer_is_not_a_voter(ensemble_factory, clients):
    ens = ensemble_factory(3, observers=1)
    obs = ens.observers[0]
    leader = ens.leader()
    zk = clients(obs.hostport)
    zk.create("/vote")
    for m in ens.participants:
        if m is not leader:
            m.kill()
    # leader + observer alive: 1 of 3 voters, no quorum: no commit
    from ensutil import UNKNOWN
    try:
        zk.create_async("/vote/x", b"x").get(timeout=8)
        committed = True
    except UNKNOWN:
        committed = False
    assert not committed, "leader + observer committed without a voter quorum"
