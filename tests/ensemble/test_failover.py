"""1. The leader is SIGKILLed while 8 kazoo clients write."""

import time

import pytest
from kazoo.protocol.states import KazooState

from ensharness import wait_until
from ensutil import Writer, connected_to, member_client, read_tree, tree_on
from rawsession import RawSession

NODE_CHANGED = 3
SYNC_CONNECTED = 3


@pytest.mark.timeout(150)
def test_leader_sigkill_while_8_clients_write(ensemble_factory, clients):
    ens = ensemble_factory(3)
    leader = ens.leader()
    survivors = [m for m in ens.members if m is not leader]
    admin = clients(survivors[0].hostport)
    admin.create("/fo")
    admin.create("/fo/w")
    admin.create("/fo/watched", b"0")

    # 8 writers; writer i starts on member i % 3 and knows every member.
    writers = []
    for i in range(8):
        order = ens.members[i % 3:] + ens.members[:i % 3]
        zk = clients(ens.connect_string(order), randomize_hosts=False)
        writers.append(Writer(zk, "c%d" % i, "/fo/w/c%d-" % i))
    on_leader = [w for w in writers if connected_to(w.zk) == leader.hostport]
    assert len(on_leader) >= 2, "expected writers on the leader"

    # A kazoo client on the leader with an ephemeral, and a raw session on
    # the leader with a data watch (kazoo drops its own watchers on a
    # disconnect, so the raw client re-sends them with SetWatches2).
    mover = clients(ens.connect_string([leader] + survivors), randomize_hosts=False)
    mover_states = []
    mover.add_listener(lambda s: mover_states.append(s))
    mover_id = mover.client_id
    mover.create("/fo/eph-mover", b"m", ephemeral=True)
    raw = RawSession(leader.hostport)
    raw.get_data("/fo/watched", watch=True)

    for w in writers:
        w.start()
    try:
        wait_until(lambda: all(len(w.acked) >= 5 for w in writers), 20, what="writes before the kill")
        t_kill = time.monotonic()
        leader.kill()
        new_leader = ens.leader(timeout=20, exclude=[leader])
        t_elected = time.monotonic()
        assert new_leader in survivors
        # the ensemble keeps serving: every writer gets new acks after the kill
        wait_until(lambda: all(w.acks_after(t_elected) >= 10 for w in writers), 40,
                   what="every writer acknowledged after failover")
    finally:
        for w in writers:
            w.stop()
    print("election after kill: %.3fs" % (t_elected - t_kill))

    for w in writers:
        assert not w.errors, (w.tag, w.errors[:5])
        assert not w.lost(), "writer %s lost its session: %s" % (w.tag, w.states)
    for w in on_leader:
        assert connected_to(w.zk) in [m.hostport for m in survivors]

    # The client of the dead member resumed its session elsewhere.
    wait_until(lambda: mover.state == KazooState.CONNECTED, 15, what="mover reconnected")
    assert KazooState.LOST not in mover_states, mover_states
    assert KazooState.SUSPENDED in mover_states, mover_states
    assert mover.client_id == mover_id
    assert connected_to(mover) in [m.hostport for m in survivors]
    for m in survivors:
        zk = member_client(m)
        try:
            zk.sync("/fo")
            st = zk.exists("/fo/eph-mover")
            assert st is not None and st.ephemeralOwner == mover_id[0], (m, st)
        finally:
            zk.stop()
            zk.close()
    mover.set("/fo/eph-mover", b"after")  # the session works

    # The raw session moves to a survivor with its watch; a change made
    # after the failover fires it.
    wait_until(lambda: not raw.connected(), 10, what="raw session dropped")
    raw.reconnect(survivors[1].hostport)
    admin.set("/fo/watched", b"after-failover")
    ev = raw.wait_event(10)
    assert ev == (NODE_CHANGED, SYNC_CONNECTED, "/fo/watched"), ev
    raw.close()

    # Every acknowledged write is on every surviving member, with its data.
    expected = {}
    for w in writers:
        for data, path in w.acked.items():
            expected[path.rsplit("/", 1)[1]] = data
    maybe = {("%s" % d.decode()) for w in writers for d in w.unknown}
    print("acked %d writes, %d with unknown outcome" % (len(expected), len(maybe)))
    trees = {}
    for m in survivors:
        trees[m.id] = tree_on(m, "/fo/w")
        missing = [k for k in expected if k not in trees[m.id]]
        assert not missing, "member %d misses %d acked writes, e.g. %s" % (m.id, len(missing), missing[:5])
        wrong = [k for k, d in expected.items() if trees[m.id][k] != d]
        assert not wrong, "member %d has wrong data for %s" % (m.id, wrong[:5])
        extra = [k for k in trees[m.id] if k not in expected and trees[m.id][k].decode() not in maybe]
        assert not extra, "member %d has nodes nobody wrote: %s" % (m.id, extra[:5])
    assert trees[survivors[0].id] == trees[survivors[1].id]

    # The killed member comes back, catches up and agrees.
    leader.restart()
    ens.wait_serving(30)
    assert tree_on(leader, "/fo/w") == trees[survivors[0].id]
