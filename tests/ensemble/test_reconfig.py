"""5. Dynamic reconfiguration: `reconfig` adds a 4th member and removes one
while clients write, through kazoo's `reconfig` and Debian zkCli's
`reconfig -add/-remove`; the `-v` (from_config) version check;
reconfigEnabled and the super-user requirement; removing the leader;
non-incremental new_members; role changes; rewriting an existing member's
line; a reconfig sent through the member it removes.

A new member is started with a zoo.cfg listing the current members plus
itself and an empty dataDir: it waits (not serving) until the leader
replicates to it. reconfig needs `reconfigEnabled=true` on every member and
WRITE on /zookeeper/config (only the super user, digest super:test, which
the harness configures as superDigest).
"""

import re
import socket
import subprocess
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    NoAuthError,
    ReconfigDisabledError,
)
from kazoo.handlers.threading import KazooTimeoutError

from ensharness import BASE_IP, Member, wait_until
from ensutil import Writer, connected_to, member_client, tree_on
from zkharness import SUPER_PASSWORD, SUPER_USER, java_base_cmd

RECONF = {"reconfigEnabled": "true"}
SUPER_AUTH = [("digest", "%s:%s" % (SUPER_USER, SUPER_PASSWORD))]
NOT_SERVING = "This ZooKeeper instance is not currently serving requests"
SERVER_RE = re.compile(r"^server\.(\d+)=(.+)$")


# ---- helpers -------------------------------------------------------------------

def new_member(ens):
    """Starts member N+1 (empty dataDir, zoo.cfg = current members + itself);
    it is up but not serving until it is added."""
    sid = len(ens.members) + 1
    m = Member(ens, sid, "127.0.0.%d" % (BASE_IP + sid - 1))
    ens.members.append(m)
    m.start()
    wait_until(lambda: NOT_SERVING in m.fourlw("srvr", timeout=1.0), 15, 0.1,
               "new member %d answering srvr (not serving)" % sid)
    return m


def joining_line(m):
    """server.N=host:peer:election:participant;clientHost:clientPort"""
    return "%s:participant;%s" % (m.server_line, m.hostport)


def parse_config(data):
    """/zookeeper/config data -> ({id: server line}, version hex string)."""
    text = data.decode() if isinstance(data, bytes) else data
    servers, version = {}, None
    for ln in text.strip().splitlines():
        ln = ln.strip()
        m = SERVER_RE.match(ln)
        if m:
            servers[int(m.group(1))] = ln
        elif ln.startswith("version="):
            version = ln.split("=", 1)[1]
    return servers, version


def config_on(m):
    zk = member_client(m)
    try:
        zk.sync("/zookeeper/config")
        return zk.get("/zookeeper/config")[0]
    finally:
        zk.stop()
        zk.close()


def wait_config_everywhere(members, expected, timeout=15):
    def same():
        return all(config_on(m) == expected for m in members)
    wait_until(same, timeout, 0.2, "/zookeeper/config = %r on %s" % (expected, members))


def wait_stops_serving(m, timeout=15):
    """The removed member answers srvr with "not currently serving" and
    refuses client sessions."""
    wait_until(lambda: NOT_SERVING in m.fourlw("srvr", timeout=1.0), timeout, 0.1,
               "removed member %d not serving (modes %s)" % (m.id, m.ens.modes()))
    assert m.alive()
    zk = None
    try:
        zk = KazooClient(hosts=m.hostport, timeout=2.0)
        with pytest.raises(KazooTimeoutError):
            zk.start(timeout=3)
    finally:
        if zk is not None:
            zk.stop()
            zk.close()


def zkcli(ens, member, script, timeout=60):
    """Debian zkCli in its line mode: `script` (several commands, one a line)
    on stdin, against one member. Returns (rc, stdout + stderr)."""
    cmd = java_base_cmd(ens.workdir) + [
        "org.apache.zookeeper.ZooKeeperMain", "-server", member.hostport]
    r = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def cli_config(out):
    """The configuration zkCli printed after "Committed new configuration:"."""
    assert "Committed new configuration:" in out, out
    text = out.split("Committed new configuration:", 1)[1]
    lines = []
    for ln in text.strip().splitlines():
        lines.append(ln.strip())
        if ln.startswith("version="):
            break
    return "\n".join(lines)


def start_writers(ens, clients, base, n, members):
    """n writers, writer i first connected to members[i % len], each knowing
    the full host list (so it can move off a removed member)."""
    ws = []
    for i in range(n):
        k = i % len(members)
        order = members[k:] + members[:k]
        zk = clients(ens.connect_string(order), randomize_hosts=False)
        ws.append(Writer(zk, "c%d" % i, "%s/c%d-" % (base, i)))
    for w in ws:
        w.start()
    return ws


def stop_writers(ws):
    for w in ws:
        w.stop()
    for w in ws:
        assert not w.errors, (w.tag, w.errors[:5])
        assert not w.lost(), "writer %s lost its session: %s" % (w.tag, w.states)


def check_acked_everywhere(ws, members, path):
    """Every acknowledged write is on every member, with its data; nothing
    unwritten appears; all members agree."""
    expected = {}
    for w in ws:
        for data, p in w.acked.items():
            expected[p.rsplit("/", 1)[1]] = data
    maybe = {d for w in ws for d in w.unknown}
    trees = {}
    for m in members:
        t = tree_on(m, path)
        trees[m.id] = t
        missing = [k for k in expected if k not in t]
        assert not missing, "member %d misses %d acked writes, e.g. %s" % (m.id, len(missing), missing[:5])
        wrong = [k for k, d in expected.items() if t[k] != d]
        assert not wrong, "member %d has wrong data for %s" % (m.id, wrong[:5])
        extra = [k for k in t if k not in expected and t[k] not in maybe]
        assert not extra, "member %d has nodes nobody wrote: %s" % (m.id, extra[:5])
    first = trees[members[0].id]
    for m in members[1:]:
        assert trees[m.id] == first, "members %d and %d disagree" % (members[0].id, m.id)
    return len(expected)


# ---- tests ---------------------------------------------------------------------

@pytest.mark.timeout(90)
def test_kazoo_reconfig_add_then_remove_while_clients_write(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    victim = ens.member(3) if leader is not ens.member(3) else ens.member(2)
    third = [m for m in ens.members if m not in (leader, victim)][0]
    # The admin session sits on a follower that stays: reconfig is forwarded.
    admin = clients(third.hostport, auth_data=SUPER_AUTH)
    before, v0 = parse_config(admin.get("/zookeeper/config")[0])
    assert sorted(before) == [1, 2, 3] and v0 is not None, before
    admin.create("/rc")
    admin.create("/rc/w")

    originals = list(ens.members)
    ws = start_writers(ens, clients, "/rc/w", 6, originals)
    on_victim = [w for w in ws if connected_to(w.zk) == victim.hostport]
    assert on_victim, "expected writers on member %d" % victim.id
    try:
        wait_until(lambda: all(len(w.acked) >= 5 for w in ws), 20, what="writes before reconfig")

        # -- add member 4 --------------------------------------------------------
        m4 = new_member(ens)
        line4 = joining_line(m4)
        data, stat = admin.reconfig(joining=line4, leaving=None, new_members=None)
        servers, v1 = parse_config(data)
        assert sorted(servers) == [1, 2, 3, 4], data
        assert servers[4] == line4, data
        for sid in (1, 2, 3):
            assert servers[sid] == before[sid]
        assert int(v1, 16) > int(v0, 16), (v0, v1)
        assert admin.get("/zookeeper/config")[0] == data
        wait_config_everywhere(ens.members, data)
        wait_until(lambda: m4.mode() == "follower", 15, 0.1, "member 4 follower (%s)" % ens.modes())
        assert "Mode: follower" in m4.fourlw("srvr")
        assert ens.leader() is leader
        t_added = time.monotonic()
        wait_until(lambda: all(w.acks_after(t_added) >= 5 for w in ws), 20,
                   what="writes after the add")

        # -- remove a follower while the writers run --------------------------
        data2, _ = admin.reconfig(joining=None, leaving=str(victim.id), new_members=None)
        servers2, v2 = parse_config(data2)
        assert sorted(servers2) == sorted({1, 2, 3, 4} - {victim.id}), data2
        assert servers2[4] == line4
        assert int(v2, 16) > int(v1, 16), (v1, v2)
        t_removed = time.monotonic()
        remaining = [m for m in ens.members if m is not victim]
        wait_config_everywhere(remaining, data2)
        wait_stops_serving(victim)
        wait_until(lambda: all(w.acks_after(t_removed) >= 10 for w in ws), 30,
                   what="every writer acknowledged after the removal")
    finally:
        for w in ws:
            w.stop_ev.set()
    stop_writers(ws)

    # Clients of the removed member moved to the remaining ones.
    for w in on_victim:
        assert connected_to(w.zk) in [m.hostport for m in remaining], (w.tag, connected_to(w.zk))
    assert ens.leader() is leader
    assert sorted(m.mode() for m in remaining) == ["follower", "follower", "leader"]
    # Member 4 received everything; every acked write is on every remaining member.
    n = check_acked_everywhere(ws, remaining, "/rc/w")
    print("acked %d writes across add+remove" % n)


@pytest.mark.timeout(90)
def test_zkcli_reconfig_add_and_remove(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    follower = [m for m in ens.members if m is not leader][0]
    victim = [m for m in ens.members if m not in (leader, follower)][0]
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    admin.create("/zc")
    admin.create("/zc/w")
    ws = start_writers(ens, clients, "/zc/w", 3, list(ens.members))
    try:
        m4 = new_member(ens)
        line4 = joining_line(m4)

        # without the super user: refused, nothing changes
        rc, out = zkcli(ens, follower, "reconfig -add %s\n" % line4)
        assert rc != 0 and "Insufficient permission" in out, out
        assert "Committed new configuration" not in out, out
        assert sorted(parse_config(config_on(leader))[0]) == [1, 2, 3]
        assert NOT_SERVING in m4.fourlw("srvr")

        # -add through a follower, then `config` in the same session
        rc, out = zkcli(ens, follower, "addauth digest super:test\nreconfig -add %s\nconfig\n" % line4)
        assert rc == 0, out
        committed = cli_config(out)
        servers, v1 = parse_config(committed)
        assert sorted(servers) == [1, 2, 3, 4] and servers[4] == line4, out
        assert v1 is not None
        # `config` prints the same configuration again
        assert out.count(committed) == 2, out
        wait_config_everywhere(ens.members, committed.encode())
        wait_until(lambda: m4.mode() == "follower", 15, 0.1, "member 4 follower (%s)" % ens.modes())

        # -remove (by id)
        t0 = time.monotonic()
        rc, out = zkcli(ens, follower, "addauth digest super:test\nreconfig -remove %d\n" % victim.id)
        assert rc == 0, out
        committed2 = cli_config(out)
        servers2, v2 = parse_config(committed2)
        assert sorted(servers2) == sorted({1, 2, 3, 4} - {victim.id}), out
        assert int(v2, 16) > int(v1, 16)
        remaining = [m for m in ens.members if m is not victim]
        wait_config_everywhere(remaining, committed2.encode())
        wait_stops_serving(victim)
        wait_until(lambda: all(w.acks_after(t0) >= 5 for w in ws), 30,
                   what="writes after the zkCli removal")
    finally:
        for w in ws:
            w.stop_ev.set()
    stop_writers(ws)
    check_acked_everywhere(ws, remaining, "/zc/w")


@pytest.mark.timeout(90)
def test_reconfig_version_check(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    follower = [m for m in ens.members if m is not leader][0]
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    data0 = admin.get("/zookeeper/config")[0]
    _, v0 = parse_config(data0)
    m4 = new_member(ens)
    line4 = joining_line(m4)

    # kazoo: a version that is not the current one -> BadVersion, nothing changes
    with pytest.raises(BadVersionError):
        admin.reconfig(joining=line4, leaving=None, new_members=None, from_config=int(v0, 16) + 1)
    assert admin.get("/zookeeper/config")[0] == data0
    assert NOT_SERVING in m4.fourlw("srvr")
    # the current version -> applied
    data1, _ = admin.reconfig(joining=line4, leaving=None, new_members=None, from_config=int(v0, 16))
    servers1, v1 = parse_config(data1)
    assert sorted(servers1) == [1, 2, 3, 4], data1
    wait_until(lambda: m4.mode() == "follower", 15, 0.1, "member 4 follower (%s)" % ens.modes())
    # v0 is stale now
    with pytest.raises(BadVersionError):
        admin.reconfig(joining=None, leaving="4", new_members=None, from_config=int(v0, 16))
    assert admin.get("/zookeeper/config")[0] == data1

    # zkCli -v (hex, as /zookeeper/config prints it): stale -> "version No is not valid"
    rc, out = zkcli(ens, follower, "addauth digest super:test\nreconfig -v %s -remove 4\n" % v0)
    assert rc != 0 and "version No is not valid" in out, out
    assert "Committed new configuration" not in out, out
    assert admin.get("/zookeeper/config")[0] == data1
    # the current version -> applied
    rc, out = zkcli(ens, follower, "addauth digest super:test\nreconfig -v %s -remove 4\n" % v1)
    assert rc == 0, out
    servers2, v2 = parse_config(cli_config(out))
    assert sorted(servers2) == [1, 2, 3], out
    assert int(v2, 16) > int(v1, 16)
    wait_stops_serving(m4)
    admin.sync("/")
    assert parse_config(admin.get("/zookeeper/config")[0]) == (servers2, v2)


@pytest.mark.timeout(60)
def test_reconfig_disabled_by_default(ensemble_factory, clients):
    ens = ensemble_factory(3)  # no reconfigEnabled
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    data0 = admin.get("/zookeeper/config")[0]
    with pytest.raises(ReconfigDisabledError):
        admin.reconfig(joining=None, leaving="3", new_members=None)
    leader = ens.leader()
    follower = [m for m in ens.members if m is not leader][0]
    rc, out = zkcli(ens, follower, "addauth digest super:test\nreconfig -remove 3\n")
    assert rc != 0 and "Committed new configuration" not in out, out
    assert "KeeperErrorCode = Reconfig is disabled" in out, out
    assert admin.get("/zookeeper/config")[0] == data0
    assert all(m.serving() for m in ens.members)


@pytest.mark.timeout(60)
def test_reconfig_needs_super_user(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    data0 = config_on(ens.member(1))
    plain = clients(ens.connect_string())
    with pytest.raises(NoAuthError):
        plain.reconfig(joining=None, leaving="3", new_members=None)
    other = clients(ens.connect_string(), auth_data=[("digest", "alice:secret")])
    with pytest.raises(NoAuthError):
        other.reconfig(joining=None, leaving="3", new_members=None)
    assert plain.get("/zookeeper/config")[0] == data0
    assert all(m.serving() for m in ens.members)


@pytest.mark.timeout(60)
def test_reconfig_bad_input_before_rights_and_observers_not_running(ensemble_factory, clients):
    """ZooKeeper's order: text that does not parse is BadArguments even for
    a caller without rights (kazoo's TestReconfig.test_bad_input); an
    observer is added at once with any address ZooKeeper accepts, whether
    or not it runs, and removed again (test_add_remove_observer)."""
    ens = ensemble_factory(3, extra_cfg=RECONF)
    data0 = config_on(ens.member(1))
    plain = clients(ens.connect_string())
    for joining, leaving in (("some thing", None), ("server.x=1:2:3", None), (None, "abc")):
        with pytest.raises(BadArgumentsError):
            plain.reconfig(joining=joining, leaving=leaving, new_members=None)
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    with pytest.raises(BadArgumentsError):
        admin.reconfig(joining="server.9=a:1:2", leaving="3", new_members="server.1=b:1:2")
    assert plain.get("/zookeeper/config")[0] == data0
    ports = [free_port() for _ in range(3)]
    joining = "server.100=0.0.0.0:%d:%d:observer;0.0.0.0:%d" % tuple(ports)
    started = time.monotonic()
    data, _ = admin.reconfig(joining=joining, leaving=None, new_members=None)
    assert joining.encode() in data
    assert time.monotonic() - started < 5
    data, _ = admin.reconfig(joining=None, leaving="100", new_members=None)
    assert joining.encode() not in data
    version = int(data.decode().split("\n")[-1].split("=")[1], 16)
    with pytest.raises(BadVersionError):
        admin.reconfig(joining=joining, leaving=None, new_members=None, from_config=version + 1)
    # The version is checked before the caller's rights, as in ZooKeeper.
    with pytest.raises(BadVersionError):
        plain.reconfig(joining=joining, leaving=None, new_members=None, from_config=version + 1)
    plain.create("/after-observer", b"x")
    assert all(m.serving() for m in ens.members)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(90)
def test_remove_the_leader_while_clients_write(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    others = [m for m in ens.members if m is not leader]
    admin = clients(others[0].hostport, auth_data=SUPER_AUTH)
    admin.create("/rl")
    admin.create("/rl/w")
    ws = start_writers(ens, clients, "/rl/w", 6, list(ens.members))
    on_leader = [w for w in ws if connected_to(w.zk) == leader.hostport]
    assert on_leader
    try:
        wait_until(lambda: all(len(w.acked) >= 5 for w in ws), 20, what="writes before reconfig")
        data, _ = admin.reconfig(joining=None, leaving=str(leader.id), new_members=None)
        servers, _ = parse_config(data)
        assert sorted(servers) == sorted(m.id for m in others), data
        t0 = time.monotonic()
        new_leader = ens.leader(timeout=20, exclude=[leader])
        assert new_leader in others
        wait_config_everywhere(others, data)
        wait_stops_serving(leader)
        wait_until(lambda: all(w.acks_after(t0) >= 10 for w in ws), 30,
                   what="every writer acknowledged after the leader's removal")
    finally:
        for w in ws:
            w.stop_ev.set()
    stop_writers(ws)
    for w in on_leader:
        assert connected_to(w.zk) in [m.hostport for m in others]
    assert sorted(m.mode() for m in others) == ["follower", "leader"]
    check_acked_everywhere(ws, others, "/rl/w")


@pytest.mark.timeout(90)
def test_reconfig_new_members_non_incremental(ensemble_factory, clients):
    """Non-incremental reconfig: the whole new membership at once (kazoo
    new_members, zkCli -members): member 3 swapped for a new member 4, then back."""
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    keep = [m for m in ens.members if m is not leader][0]
    # not through the member that goes (see test_remove_through_the_removed_member)
    admin = clients(keep.hostport, auth_data=SUPER_AUTH)
    admin.create("/nm", b"x")
    m4 = new_member(ens)
    gone = [m for m in ens.members[:3] if m not in (leader, keep)][0]
    members = ",".join(joining_line(m) for m in (leader, keep, m4))
    data, _ = admin.reconfig(joining=None, leaving=None, new_members=members)
    servers, v1 = parse_config(data)
    assert sorted(servers) == sorted([leader.id, keep.id, 4]), data
    assert servers[4] == joining_line(m4)
    wait_config_everywhere([leader, keep, m4], data)
    wait_until(lambda: m4.mode() == "follower", 15, 0.1, "member 4 follower (%s)" % ens.modes())
    wait_stops_serving(gone)
    assert tree_on(m4, "/")["nm"] == b"x"


@pytest.mark.timeout(60)
def test_reconfig_changes_a_members_role(ensemble_factory, clients):
    """-add of an existing id with another role: a follower becomes an
    observer (and stops voting), then a participant again."""
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    f = [m for m in ens.members if m is not leader][0]
    admin = clients(leader.hostport, auth_data=SUPER_AUTH)
    obs_line = "%s:observer;%s" % (f.server_line, f.hostport)
    data, _ = admin.reconfig(joining=obs_line, leaving=None, new_members=None)
    servers, _ = parse_config(data)
    assert servers[f.id].split(";")[0] == "%s:observer" % f.server_line, data
    wait_until(lambda: f.mode() == "observer", 15, 0.1, "member %d observer (%s)" % (f.id, ens.modes()))
    admin.create("/role", b"o")
    assert tree_on(f, "/")["role"] == b"o"
    data, _ = admin.reconfig(joining=joining_line(f), leaving=None, new_members=None)
    servers, _ = parse_config(data)
    assert servers[f.id].split(";")[0] == "%s:participant" % f.server_line, data
    wait_until(lambda: f.mode() == "follower", 15, 0.1, "member %d follower (%s)" % (f.id, ens.modes()))


@pytest.mark.timeout(60)
def test_reconfig_updates_an_existing_members_line(ensemble_factory, clients):
    """-add of an existing id with a new client address replaces its line in
    /zookeeper/config, as ZooKeeper does."""
    ens = ensemble_factory(3, extra_cfg=RECONF)
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    m2 = ens.member(2)
    before, _ = parse_config(admin.get("/zookeeper/config")[0])
    assert before[2] == "%s:participant" % m2.server_line  # harness lines carry no client address
    data, _ = admin.reconfig(joining=joining_line(m2), leaving=None, new_members=None)
    servers, _ = parse_config(data)
    assert servers[2] == joining_line(m2), data


@pytest.mark.timeout(60)
def test_remove_through_the_removed_member(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=RECONF)
    leader = ens.leader()
    victim = [m for m in ens.members if m is not leader][0]
    admin = clients(victim.hostport, auth_data=SUPER_AUTH)
    try:
        data, _ = admin.reconfig_async(joining=None, leaving=str(victim.id), new_members=None,
                                       from_config=-1).get(timeout=15)
    finally:
        # applied either way
        after, _ = parse_config(config_on(leader))
        assert victim.id not in after
    servers, _ = parse_config(data)
    assert victim.id not in servers


def zkrs_shell(member, script, timeout=60):
    """`zkrs shell` with the same script on stdin, as zkcli() runs zkCli."""
    import os
    r = subprocess.run([os.environ["ZKRS_BIN"], "shell", "-server", member.hostport], input=script,
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


@pytest.mark.timeout(120)
def test_zkrs_shell_reconfig_as_zkcli(ensemble_factory, clients):
    """`zkrs shell` reconfig -remove / -add / -v / -s, checked against
    Debian zkCli on the same ensemble: the same committed configuration
    text, the same refusal of a stale version."""
    ens = ensemble_factory(3, extra_cfg=RECONF)
    admin = clients(ens.connect_string(), auth_data=SUPER_AUTH)
    follower = ens.followers()[0]
    third = [m for m in ens.members if m is not ens.leader() and m is not follower][0]
    _, v0 = parse_config(admin.get("/zookeeper/config")[0])
    line = "server.%d=%s" % (third.id, admin.get("/zookeeper/config")[0].decode().split(
        "server.%d=" % third.id, 1)[1].splitlines()[0])

    rc, out = zkrs_shell(follower, "addauth digest super:test\nreconfig -s -remove %d\n" % third.id)
    assert rc == 0, out
    servers1, v1 = parse_config(cli_config(out))
    assert third.id not in servers1 and "cZxid = 0x" in out, out
    # A stale version: the same refusal text as zkCli's.
    script = "addauth digest super:test\nreconfig -v %s -add %s\n" % (v0, line)
    rc_rs, out_rs = zkrs_shell(follower, script)
    rc_zk, out_zk = zkcli(ens, follower, script)
    assert rc_rs != 0 and rc_zk != 0
    assert "version No is not valid" in out_rs and "version No is not valid" in out_zk, out_rs
    # The current one: both print the committed configuration.
    rc, out = zkrs_shell(follower, "addauth digest super:test\nreconfig -v %s -add %s\n" % (v1, line))
    assert rc == 0, out
    servers2, v2 = parse_config(cli_config(out))
    assert sorted(servers2) == sorted(m.id for m in ens.members)
    admin.sync("/")
    assert parse_config(admin.get("/zookeeper/config")[0]) == (servers2, v2)
    rc, out = zkrs_shell(follower, "reconfig -remove 1\n")
    assert rc != 0 and "Insufficient permission" in out, out
