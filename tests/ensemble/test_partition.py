"""2. A member cut off from the others by iptables (both directions)."""

import collections
import time

import pytest
from kazoo.protocol.states import KazooState

from ensharness import wait_until
from ensutil import UNKNOWN, Writer, connected_to, read_tree, tree_on


@pytest.mark.timeout(150)
@pytest.mark.parametrize("victim", ["follower", "leader"])
def test_isolated_member(ensemble_factory, clients, iptables_ready, victim):
    ens = ensemble_factory(3)
    leader = ens.leader()
    iso = leader if victim == "leader" else ens.followers()[0]
    rest = [m for m in ens.members if m is not iso]
    admin = clients(ens.connect_string(rest))
    admin.create("/part")
    admin.create("/part/seq")
    admin.create("/part/pinned")

    # `mover` starts on the isolated member and knows every member;
    # `pinned` knows only the isolated member.
    mover = clients(ens.connect_string([iso] + rest), randomize_hosts=False)
    assert connected_to(mover) == iso.hostport
    mover_id = mover.client_id
    pinned = clients(iso.hostport)
    pinned_states = []
    pinned.add_listener(lambda s: pinned_states.append(s))
    # Sequential creates, each with unique data: a request applied twice
    # would show up as two nodes with the same data.
    w = Writer(mover, "m", "/part/seq/n-", sequential=True)
    w2 = Writer(admin, "a", "/part/seq/n-", sequential=True)
    w.start()
    w2.start()
    try:
        wait_until(lambda: len(w.acked) >= 10, 20, what="writes before the partition")
        ens.isolate(iso)
        t_cut = time.monotonic()

        # The isolated member cannot commit: a write through it is not
        # acknowledged (ConnectionLoss / timeout) ...
        try:
            pinned.create_async("/part/pinned/x", b"p").get(timeout=8)
            committed = True
        except UNKNOWN:
            committed = False
        assert not committed, "a write through the isolated %s was acknowledged" % victim
        # (that it also stops serving is test_isolated_member_stops_serving)
        # ... the majority elects/keeps a leader and serves ...
        new_leader = ens.leader(timeout=20, exclude=[iso])
        assert new_leader in rest
        # ... and the client that knew every member moved to one of them.
        wait_until(lambda: connected_to(mover) in [m.hostport for m in rest], 20,
                   what="mover moved to a majority member")
        t_moved = time.monotonic()
        wait_until(lambda: w.acks_after(t_moved) >= 10 and w2.acks_after(t_moved) >= 10, 20,
                   what="writes acknowledged by the majority")
        assert mover.client_id == mover_id
    finally:
        ens.heal()
        w.stop()
        w2.stop()
    t_heal = time.monotonic()
    print("partition: %.1fs" % (t_heal - t_cut))
    assert not w.errors and not w2.errors, (w.errors[:5], w2.errors[:5])
    assert not w.lost() and not w2.lost(), (w.states, w2.states)

    # After healing the member catches up.
    wait_until(lambda: iso.serving(), 30, what="isolated member serving again")
    ens.wait_serving(30)
    # Wait until the tree stops changing (see test_zombie_write_keeps_client_order
    # for writes that commit seconds after their client gave up on them).
    t_check = time.monotonic()
    ref = tree_on(rest[0], "/part/seq")
    late = {}
    for _ in range(10):
        time.sleep(1.5)
        again = tree_on(rest[0], "/part/seq")
        if again == ref:
            break
        late.update(set(again.items()) - set(ref.items()))
        ref = again
    if late:
        print("writes committed more than %.1fs after every writer stopped: %s"
              % (time.monotonic() - t_check - 1.5, sorted(late.items())))
    for m in ens.members:
        t = tree_on(m, "/part/seq")
        assert t == ref, "member %d disagrees with member %d after sync: %s" % (
            m.id, rest[0].id, sorted(set(t.items()) ^ set(ref.items())))
    # Nothing acknowledged is lost; nothing appears twice.
    counts = collections.Counter(ref.values())
    dups = [d for d, n in counts.items() if n > 1]
    assert not dups, "writes applied twice: %s" % dups[:5]
    for wr in (w, w2):
        for data, path in wr.acked.items():
            name = path.rsplit("/", 1)[1]
            assert ref.get(name) == data, "acked %s -> %s lost (have %r)" % (data, path, ref.get(name))
    known = set(w.acked) | set(w.unknown) | set(w2.acked) | set(w2.unknown)
    assert set(ref.values()) <= known
    print("acked %d, unknown %d, unknown that committed %d" % (
        len(w.acked) + len(w2.acked), len(w.unknown) + len(w2.unknown),
        len(set(ref.values()) & (set(w.unknown) | set(w2.unknown)))))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("victim", [
    "follower",
    "leader",
])
def test_isolated_member_stops_serving(ensemble_factory, clients, iptables_ready, victim):
    """ZooKeeper: a follower that hears nothing from its leader for
    syncLimit ticks, and a leader without a quorum of followers, go LOOKING,
    close their client connections and refuse new ones until a quorum is
    back (srvr: 'not currently serving requests')."""
    ens = ensemble_factory(3)
    leader = ens.leader()
    iso = leader if victim == "leader" else ens.followers()[0]
    pinned = clients(iso.hostport)
    pinned_states = []
    pinned.add_listener(lambda s: pinned_states.append(s))
    ens.isolate(iso)
    # syncLimit * tickTime = 1 s in ZooKeeper; allow 10 s
    wait_until(lambda: not iso.serving(), 10, what="isolated %s stops serving (srvr)" % victim)
    wait_until(lambda: KazooState.SUSPENDED in pinned_states, 10, what="its client dropped")
    assert "not currently serving" in iso.fourlw("srvr")
    # The majority elects (or keeps) exactly one leader; never two at once.
    wait_until(lambda: list(ens.modes().values()).count("leader") == 1, 10,
               what="exactly one leader")
    assert list(ens.modes().values()).count("leader") <= 1, ens.modes()
    ens.heal()
    wait_until(lambda: iso.serving(), 20, what="serving again after healing")


@pytest.mark.timeout(90)
def test_zombie_write_keeps_client_order(ensemble_factory, clients, iptables_ready):
    """A session writes through a follower just cut off from the others, gets
    ConnectionLoss, moves to a majority member and writes again (acked).
    The first write's outcome is unknown to the client, but if it commits it
    must come before the session's later write (ZooKeeper's FIFO client
    order). Here it cannot reach the leader before the partition heals, and
    by then the session's move has claimed it (committed before the client
    heard it was connected), so a write from the old connection is refused:
    it must never commit."""
    ens = ensemble_factory(3)
    iso = ens.followers()[0]
    rest = [m for m in ens.members if m is not iso]
    admin = clients(ens.connect_string(rest))
    admin.create("/z")
    s = clients(ens.connect_string([iso] + rest), randomize_hosts=False)
    assert connected_to(s) == iso.hostport
    ens.isolate(iso)
    try:
        s.create_async("/z/first", b"1").get(timeout=15)
        first_acked = True
    except UNKNOWN:
        first_acked = False
    wait_until(lambda: connected_to(s) in [m.hostport for m in rest], 20,
               what="session moved to a majority member")
    _, st_second = s.create("/z/second", b"2", include_data=True)
    ens.heal()
    wait_until(lambda: iso.serving(), 20, what="healed")
    deadline = time.monotonic() + 8  # bounded wait for a late commit
    st_first = None
    while time.monotonic() < deadline and st_first is None:
        admin.sync("/z")
        st_first = admin.exists("/z/first")
        time.sleep(0.25)
    print("first write acked=%s committed=%s" % (first_acked, st_first is not None))
    if not first_acked:
        assert st_first is None, (
            "a write from the connection the session left committed after the "
            "move (czxid %#x; the session's next write is %#x)"
            % (st_first.czxid, st_second.czxid))
    if st_first is not None:
        assert st_first.czxid < st_second.czxid, (
            "write sent before /z/second (czxid %#x) committed after it (czxid %#x)"
            % (st_second.czxid, st_first.czxid))
