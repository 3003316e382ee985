"""Members of a new ensemble started at the same moment must all come up.

(Before main 176eaef a member that got a vote request before its own
raft.initialize() exited with "raft init: not allowed to initialize".)"""

import contextlib
import time

import pytest
from kazoo.client import KazooClient

from ensharness import BASE_IP, Ensemble, Member, free_ports, wait_until


@pytest.mark.timeout(90)
def test_simultaneous_start_never_crashes():
    crashes = []
    for round_ in range(6):
        ens = Ensemble(5)
        try:
            for m in ens.members:
                m.start()
            # until every member serves or one exited
            wait_until(lambda: any(not m.alive() for m in ens.members)
                       or all(m.serving() for m in ens.members), 20, 0.1, "startup")
            for m in ens.members:
                if not m.alive():
                    crashes.append((round_, m.id, m.proc.returncode, m.log_tail(3)))
        finally:
            ens.cleanup()
        if crashes:
            break
        time.sleep(0.2)
    assert not crashes, "members exited during startup: %s" % crashes


DEFAULTS = {"tickTime": 2000, "initLimit": 10, "syncLimit": 5}


@contextlib.contextmanager
def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(30)
    try:
        yield zk
    finally:
        zk.stop()
        zk.close()


@pytest.mark.timeout(90)
def test_first_voter_started_early_leads_within_two_heartbeats():
    """The first voter of a new ensemble asks for votes as it starts; if
    the others are not up yet, it stands again two heartbeats later (832 ms
    at ZooKeeper's defaults) instead of waiting out an election timeout
    (1.7-3.3 s), as ZooKeeper's election keeps asking in its first second."""
    for _ in range(3):
        ens = Ensemble(3, extra_cfg=DEFAULTS)
        try:
            t0 = time.monotonic()
            ens.members[0].start()
            time.sleep(0.4)
            for m in ens.members[1:]:
                m.start()
            ens.wait_serving(30)
            took = time.monotonic() - t0
            assert ens.members[0].mode() == "leader", ens.modes()
            assert took < 1.6, "a leader only %.2f s after the first voter started" % took
        finally:
            ens.cleanup()


@pytest.mark.timeout(120)
def test_restart_with_new_peer_ports_in_zoo_cfg():
    """With reconfigEnabled=false (ZooKeeper's default) the server lines of
    zoo.cfg say where the members are: an ensemble stopped, given new peer
    and election ports, and started again elects a leader and keeps its
    data, and /zookeeper/config shows the new ports. (zkrs dialled the
    addresses its replicated membership recorded at the first start, and
    never elected again.)"""
    ens = Ensemble(3, extra_cfg=DEFAULTS)
    try:
        ens.start(60)
        with client(ens.connect_string()) as zk:
            zk.create("/moved", b"kept")
        old = {m.id: (m.peer_port, m.elect_port) for m in ens.members}
        for m in ens.members:
            m.kill()
        for m in ens.members:
            m.peer_port, m.elect_port = free_ports(m.ip, 2)
        assert all(old[m.id] != (m.peer_port, m.elect_port) for m in ens.members)
        ens.start(60, restart_crashed=False)
        ens.leader(30)
        with client(ens.connect_string()) as zk:
            assert zk.get("/moved")[0] == b"kept"
            zk.set("/moved", b"written after the move")
            assert zk.get("/moved")[0] == b"written after the move"
            lines = ["%s:participant" % m.server_line for m in ens.members]

            def config_moved():
                zk.sync("/zookeeper/config")
                config = zk.get("/zookeeper/config")[0].decode().splitlines()
                return all(line in config for line in lines)
            wait_until(config_moved, 10, 0.2, "/zookeeper/config with the new ports")
    finally:
        ens.cleanup()


def config_lines(zk):
    zk.sync("/zookeeper/config")
    return zk.get("/zookeeper/config")[0].decode().splitlines()


@pytest.mark.timeout(180)
def test_member_added_to_zoo_cfg_joins_after_a_rolling_restart():
    """With reconfigEnabled=false a member is added as in ZooKeeper: a new
    server line in every zoo.cfg, the new member started, the others
    restarted one by one, the leader last. Then the new member votes
    (/zookeeper/config lists it as a participant, the leader counts it
    among its synced followers) and serves the data. (zkrs took only moved
    addresses from zoo.cfg, and the new member waited forever.)"""
    ens = Ensemble(3, extra_cfg=DEFAULTS)
    try:
        ens.start(60)
        old = list(ens.members)
        with client(ens.connect_string()) as zk:
            zk.create("/before", b"kept")
        new = Member(ens, 4, "127.0.0.%d" % (BASE_IP + 3))
        ens.members.append(new)
        new.start()
        leader = ens.leader(30)
        for m in [m for m in old if m is not leader] + [leader]:
            m.restart()
            ens.wait_serving(60, members=old)
        wait_until(new.serving, 60, 0.2, "the new member serving")
        wait_until(lambda: "zk_synced_followers\t3" in ens.leader(30).fourlw("mntr"), 30, 0.2,
                   "the leader counting the new member among its synced followers")
        with client(new.hostport) as zk:
            assert zk.get("/before")[0] == b"kept"
            zk.create("/after", b"through the new member")
            line = "%s:participant" % new.server_line
            assert line in config_lines(zk), config_lines(zk)
    finally:
        ens.cleanup()


@pytest.mark.timeout(180)
def test_member_removed_from_zoo_cfg_leaves_after_a_rolling_restart():
    """The other way: member 4 stopped, its line taken out of every
    zoo.cfg, the others restarted one by one. The membership drops it:
    /zookeeper/config no longer lists it, and the three left make the
    quorum (one of them may stop and the ensemble still takes writes)."""
    ens = Ensemble(4, extra_cfg=DEFAULTS)
    gone = ens.members[3]
    try:
        ens.start(60)
        gone.kill()
        ens.members.remove(gone)
        leader = ens.leader(30)
        for m in [m for m in ens.members if m is not leader] + [leader]:
            m.restart()
            ens.wait_serving(60)
        with client(ens.connect_string()) as zk:
            try:
                wait_until(lambda: not any(ln.startswith("server.4=") for ln in config_lines(zk)),
                           30, 0.2, "server.4 gone from /zookeeper/config")
            except AssertionError:
                print(config_lines(zk), ens.modes(), ens.logs_tail(60))
                raise
        stopped = [m for m in ens.members if m is not ens.leader(30)][0]
        stopped.kill()
        left = [m for m in ens.members if m is not stopped]
        with client(ens.connect_string(left)) as zk:
            zk.create("/with-two-of-three", b"")
    finally:
        gone.kill()
        ens.cleanup()
