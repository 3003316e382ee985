"""Riding through member faults (issue 7): fresh followers, the leader's
clock, sessions that survive a deposed or paused leader, failover at
ZooKeeper's default tickTime. Each test names the fault it injects; the
first four failed on zkrs before the fixes they came with."""

import os
import statistics
import threading
import time

import pytest
from kazoo.protocol.states import KazooState

from ensharness import wait_until
from ensutil import UNKNOWN, Writer, connected_to, kill_leader_to_next_ack

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
# ZooKeeper's defaults, for the tests that measure failover as users see it.
ZK_DEFAULTS = {"tickTime": 2000, "syncLimit": 5, "initLimit": 10}


def others(ens, m):
    return [o for o in ens.participants if o is not m]


@pytest.mark.timeout(120)
def test_follower_serves_a_create_acked_5ms_earlier(ensemble_factory, clients):
    """A znode created through the leader is on a follower, for another
    session, 5 ms after the leader acknowledged it (the leader announces a
    commit at once, not at its next heartbeat, when nearly all would be
    missing). A few may miss when the two cores are busy with other work
    (seen once, 2 of 100, with a build running beside the suite)."""
    ens = ensemble_factory(3)
    leader = ens.leader()
    follower = others(ens, leader)[0]
    writer = clients(leader.hostport)
    reader = clients(follower.hostport)
    writer.create("/fresh")
    misses = []
    for i in range(100):
        path = writer.create("/fresh/n%03d" % i)
        time.sleep(0.005)
        if reader.exists(path) is None:
            misses.append(path)
    assert len(misses) <= 5, "%d of 100 acked creates missing on the follower 5 ms later: %s" % (
        len(misses), misses[:5])


@pytest.mark.timeout(120)
def test_leader_clock_stamps_ctime_and_mtime(ensemble_factory, clients):
    """A follower whose wall clock is a day ahead forwards writes; the
    znodes' ctime/mtime come from the leader's clock, not the follower's."""
    if not os.path.exists(LIBFAKETIME):
        pytest.skip("libfaketime (Debian package faketime) is not installed")
    ens = ensemble_factory(3)
    leader = ens.leader()
    skewed = others(ens, leader)[0]
    skewed.kill()
    skewed.wait_port_free()
    # Only the wall clock moves; timers and timeouts run on the real one.
    skewed.env = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "+1d",
                  "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    skewed.start()
    wait_until(lambda: skewed.mode() == "follower", 30, what="the skewed member follows")
    zk = clients(skewed.hostport)
    before = time.time() * 1000
    zk.create("/clock", b"a")
    zk.set("/clock", b"b")
    after = time.time() * 1000
    _, stat = zk.get("/clock")
    for name in ("ctime", "mtime"):
        t = getattr(stat, name)
        assert before - 5000 <= t <= after + 5000, (
            "%s %d is not the leader's time (now %d; skew %+.1f h)"
            % (name, t, after, (t - after) / 3.6e6))


def _sessions_on_followers(ens, clients, leader, per_member=2, tag=""):
    """Clients bound to the followers, each with an ephemeral; returns
    [(zk, session id, ephemeral path, states seen)]."""
    out = []
    for f in others(ens, leader):
        for k in range(per_member):
            zk = clients(f.hostport, timeout=4.0)
            states = []
            zk.add_listener(states.append)
            path = "/eph%s-%d-%d" % (tag, f.id, k)
            zk.create(path, b"x", ephemeral=True)
            out.append((zk, zk.client_id[0], path, states))
    return out


def _assert_sessions_kept(ens, sessions):
    for zk, sid, path, states in sessions:
        wait_until(lambda: zk.state == KazooState.CONNECTED, 20,
                   what="session %#x reconnected" % sid)
        assert KazooState.LOST not in states, "session %#x expired (states %s)" % (sid, states)
        assert zk.client_id[0] == sid
        assert zk.exists(path) is not None, "ephemeral %s of %#x gone" % (path, sid)


@pytest.mark.timeout(150)
def test_paused_leader_expires_no_session(ensemble_factory, clients):
    """The leader is SIGSTOPped for longer than the sessions' timeout while
    their clients keep pinging the followers; the followers elect a new
    leader. When the old leader resumes, its session deadlines are all in
    the past: it must not get a single close committed (it is deposed, and
    it re-arms its sessions after a pause). Two rounds, each with sessions
    on that round's followers."""
    ens = ensemble_factory(3)
    for rnd in range(2):
        leader = ens.leader()
        sessions = _sessions_on_followers(ens, clients, leader, tag="r%d" % rnd)
        leader.pause()
        try:
            ens.leader(timeout=20, exclude=[leader])
            time.sleep(6)  # > the 4 s session timeout
        finally:
            leader.resume()
        time.sleep(3)
        _assert_sessions_kept(ens, sessions)
        ens.wait_serving(20)


@pytest.mark.timeout(150)
def test_isolated_leader_expires_no_session(ensemble_factory, clients):
    """The leader is cut off from both followers for longer than the
    sessions' timeout, then the partition heals: no session of a client
    that kept talking to the majority expires."""
    ens = ensemble_factory(3)
    leader = ens.leader()
    sessions = _sessions_on_followers(ens, clients, leader)
    ens.isolate(leader)
    try:
        ens.leader(timeout=20, exclude=[leader])
        time.sleep(6)
    finally:
        ens.heal()
    time.sleep(4)
    _assert_sessions_kept(ens, sessions)


@pytest.mark.timeout(200)
def test_isolated_leader_replaced_within_sync_limit_at_zk_defaults(ensemble_factory, clients):
    """tickTime=2000, syncLimit=5: within syncLimit x tickTime (10 s) of
    cutting the leader off, the majority acknowledges writes under a new
    leader and the old leader refuses its clients."""
    ens = ensemble_factory(3, extra_cfg=ZK_DEFAULTS)
    leader = ens.leader()
    majority = others(ens, leader)
    zk = clients(ens.connect_string(majority), timeout=20.0)
    zk.create("/iso")
    ens.isolate(leader)
    t0 = time.monotonic()
    acked = refused = None
    try:
        while time.monotonic() - t0 < 15 and (acked is None or refused is None):
            if refused is None and leader.mode() is None:
                refused = time.monotonic() - t0
            if acked is None:
                try:
                    zk.create_async("/iso/n", b"", sequence=True).get(timeout=0.5)
                    acked = time.monotonic() - t0
                except UNKNOWN:
                    pass
            time.sleep(0.02)
    finally:
        ens.heal()
    print("write acked %.2f s after the cut; old leader refused clients after %.2f s"
          % (acked or -1, refused or -1))
    assert acked is not None and acked < 10, "no acked write within 10 s (%r)" % acked
    assert refused is not None and refused < 10, "old leader served for %r s" % refused


@pytest.mark.timeout(400)
def test_leader_sigkill_next_write_within_a_second_at_zk_defaults(ensemble_factory, clients):
    """tickTime=2000: from a leader SIGKILL to the next acknowledged write
    of a client doing one request at a time, median under 1 s over 4 kills
    (the client on the killed leader twice, on a follower twice). The
    followers see the leader's link reset and elect at once."""
    ens = ensemble_factory(3, extra_cfg=ZK_DEFAULTS)
    zk = clients(ens.connect_string(), timeout=10.0)
    zk.create("/kill")
    times = []
    for want_on_leader in (True, False, True, False):
        for _ in range(20):
            if want_on_leader == (connected_to(zk) == ens.leader().hostport):
                times.append(kill_leader_to_next_ack(ens, zk, "/kill", limit=30))
                break
            # Move the client: reconnect until it lands where wanted.
            zk.stop()
            zk.start(timeout=15)
    print("kill -> next acked write: %s" % times)
    assert len(times) == 4 and None not in times, times
    assert statistics.median(times) < 1.0, times
    assert max(times) < 5.0, times


@pytest.mark.timeout(200)
def test_paused_leader_replaced_within_sync_limit_at_zk_defaults(ensemble_factory, clients):
    """tickTime=2000: the leader is SIGSTOPped for 14 s while one client on
    each follower writes one request at a time. Writes forwarded to the
    frozen leader must not wait for the thaw: both clients' next writes are
    acknowledged by a new leader within syncLimit x tickTime (10 s)."""
    ens = ensemble_factory(3, extra_cfg=ZK_DEFAULTS)
    leader = ens.leader()
    writers = [clients(f.hostport, timeout=20.0) for f in others(ens, leader)]
    writers[0].create("/pause")
    for zk in writers:
        zk.create("/pause/n", sequence=True)
    acked = {}

    def write(i, zk, t0):
        while time.monotonic() - t0 < 14:
            try:
                zk.create_async("/pause/n", b"", sequence=True).get(timeout=15)
                acked[i] = time.monotonic() - t0
                return
            except UNKNOWN:
                time.sleep(0.02)

    t0 = time.monotonic()
    leader.pause()
    try:
        threads = [threading.Thread(target=write, args=(i, zk, t0)) for i, zk in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        leader.resume()
    print("writes acked after the leader froze: %s" % acked)
    assert len(acked) == 2 and max(acked.values()) < 10, acked


@pytest.mark.timeout(240)
@pytest.mark.parametrize("fault", ["kill", "pause"])
def test_follower_clients_see_no_connection_loss_when_the_leader_fails(
        ensemble_factory, clients, fault):
    """Clients bound to the followers write one sequential znode at a time
    while the leader is SIGKILLed or SIGSTOPped. Their writes in flight to
    the failed leader are settled with the next one (applied once, or sent
    again if they never committed), so they see no ConnectionLoss, every
    write is acknowledged, and each is in the tree exactly once. (Before,
    a follower dropped its clients when its leader went away.)"""
    ens = ensemble_factory(3)
    leader = ens.leader()
    followers = others(ens, leader)
    first = clients(followers[0].hostport, timeout=10.0)
    first.create("/ride")
    zks = [first] + [clients(f.hostport, timeout=10.0) for f in followers[1:]]
    writers = _start_writers(zks, "/ride")
    if fault == "kill":
        leader.kill()
    else:
        leader.pause()
    try:
        ens.leader(timeout=20, exclude=[leader])
        t = time.monotonic()
        wait_until(lambda: all(w.acks_after(t) > 50 for w in writers), 30,
                   what="writes acked under the new leader")
    finally:
        for w in writers:
            w.stop()
        if fault == "pause":
            leader.resume()
    _assert_no_loss_and_written_once(first, "/ride", writers)


def _start_writers(zks, parent):
    """One sequential-create Writer per client, started and flowing."""
    writers = [Writer(zk, "w%d" % i, parent + "/n", sequential=True, pause=0.002)
               for i, zk in enumerate(zks)]
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) > 50 for w in writers), 20, what="writes flowing")
    return writers


def _assert_no_loss_and_written_once(zk, parent, writers):
    for w in writers:
        assert w.unknown == [] and w.errors == [], (w.tag, w.unknown, w.errors)
        assert not any(s == KazooState.SUSPENDED for _, s in w.states), (w.tag, w.states)
    # The other writers' last acks came through other members: catch this
    # one up first, as any ZooKeeper client must to read another's writes.
    zk.sync(parent)
    seen = {}
    for child in zk.get_children(parent):
        data, _ = zk.get(parent + "/" + child)
        seen[data] = seen.get(data, 0) + 1
    acked = {d for w in writers for d in w.acked}
    assert {d for d, n in seen.items() if n > 1} == set(), "applied twice"
    assert acked == set(seen), "acked %d, in the tree %d" % (len(acked), len(seen))


@pytest.mark.timeout(240)
def test_paused_leaders_clients_see_no_connection_loss(ensemble_factory, clients):
    """Clients bound to the leader write one sequential znode at a time;
    the leader is SIGSTOPped until the others elect a new one, then
    resumed. It rejoins as a follower, keeps its clients, and settles the
    writes it had appended but not committed (applied once, or sent again
    to the new leader), so they see no ConnectionLoss and each write is in
    the tree exactly once. (Before, a deposed leader dropped its clients.)"""
    ens = ensemble_factory(3)
    leader = ens.leader()
    # Longer than the pause below, so the clients do not give up first.
    zks = [clients(leader.hostport, timeout=20.0) for _ in range(2)]
    zks[0].create("/paused")
    writers = _start_writers(zks, "/paused")
    leader.pause()
    try:
        ens.leader(timeout=20, exclude=[leader])
    finally:
        leader.resume()
    try:
        t = time.monotonic()
        wait_until(lambda: all(w.acks_after(t) > 50 for w in writers), 30,
                   what="writes acked after the old leader rejoined")
    finally:
        for w in writers:
            w.stop()
    assert leader.mode() == "follower", leader.mode()
    _assert_no_loss_and_written_once(zks[0], "/paused", writers)
