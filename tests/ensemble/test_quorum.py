"""3. Five members: a majority alive serves writes, a minority does not."""

import time

import pytest
from kazoo.client import KazooClient

from ensharness import wait_until
from ensutil import UNKNOWN, member_client, tree_on


def _write_ok(zk, path, timeout=10):
    zk.create_async(path, b"x").get(timeout=timeout)
    return True


@pytest.mark.timeout(120)
def test_five_members_two_down_serves_three_down_refuses(ensemble_factory, clients):
    ens = ensemble_factory(5)
    leader = ens.leader()
    followers = [m for m in ens.members if m is not leader]
    admin = clients(ens.connect_string())
    admin.create("/q")

    # Kill the leader and one follower: 3 of 5 remain, still a quorum.
    leader.kill()
    followers[0].kill()
    alive = [m for m in ens.members if m.alive()]
    assert len(alive) == 3
    new_leader = ens.leader(timeout=20, exclude=[leader, followers[0]])
    assert new_leader in alive
    for m in alive:
        zk = clients(m.hostport)
        for i in range(5):
            assert _write_ok(zk, "/q/m%d-%d" % (m.id, i))
    for m in alive:
        assert len(tree_on(m, "/q")) == 15

    # Kill a third: 2 of 5 cannot commit anything.
    victim = new_leader
    survivors = [m for m in alive if m is not victim]
    watchers = [clients(m.hostport) for m in survivors]
    victim.kill()
    for zk, m in zip(watchers, survivors):
        try:
            zk.create_async("/q/no-quorum-%d" % m.id, b"x").get(timeout=8)
            ok = True
        except UNKNOWN:
            ok = False
        assert not ok, "member %d acknowledged a write without a quorum" % m.id
    # (that they also say so and refuse clients: test_minority_not_serving)

    # One member back: a quorum again, writes resume, nothing acked was lost.
    followers[0].restart()
    ens.leader(timeout=30, exclude=[leader, victim])
    zk = clients(ens.connect_string(survivors + [followers[0]]))
    wait_until(lambda: _write_ok(zk, "/q/after-%f" % time.monotonic()), 30, 0.2,
               what="writes after the quorum is back")
    kids = tree_on(followers[0], "/q")
    assert all("m%d-%d" % (m.id, i) in kids for m in alive for i in range(5))


@pytest.mark.timeout(60)
def test_minority_not_serving(ensemble_factory, clients):
    ens = ensemble_factory(5)
    leader = ens.leader()
    others = [m for m in ens.members if m is not leader]
    leader.kill()
    others[0].kill()
    others[1].kill()
    survivors = others[2:]
    for m in survivors:
        wait_until(lambda: "not currently serving" in m.fourlw("srvr"), 10,
                   what="member %d says it is not serving" % m.id)
    zk = KazooClient(hosts=ens.connect_string(survivors), timeout=4.0)
    try:
        with pytest.raises(Exception):
            zk.start(timeout=4)
    finally:
        zk.stop()
        zk.close()


@pytest.mark.timeout(90)
def test_quorum_listen_on_all_ips(ensemble_factory):
    """quorumListenOnAllIPs=true: each member's peer port listens on every
    address (as for a member behind NAT, whose server.N address is not its
    own), not only on its server.N address; the ensemble forms as usual."""
    import socket

    ens = ensemble_factory(3, start=False, extra_cfg={"quorumListenOnAllIPs": "true"})
    ens.start()
    c = member_client(ens.leader())
    c.create("/all-ips", b"")
    c.stop()
    for m in ens.members:
        assert m.ip != "127.0.0.1"
        with socket.create_connection(("127.0.0.1", m.peer_port), timeout=5):
            pass
