"""Local sessions (`localSessionsEnabled`, `localSessionsUpgradingEnabled`),
as ZooKeeper 3.5+ has them: a new session is known only to the member the
client connected to (no log entry to open it); its writes work; its first
ephemeral makes it global when upgrading is on and is refused with
EphemeralOnLocalSession when it is off; it expires on that member alone;
and a client that moves to another member finds it gone, unless it was
upgraded."""

import threading

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import EphemeralOnLocalSessionError

from ensharness import wait_until
from rawsession import Closed, RawSession

LOCAL = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}


def mntr(member, key):
    for line in member.fourlw("mntr").splitlines():
        k, _, v = line.partition("\t")
        if k == key:
            return int(v)
    raise AssertionError("%s not in mntr of %r" % (key, member))


def first_then_rest(ens, first):
    """A connect string that tries `first` before the others."""
    rest = [m for m in ens.members if m is not first]
    return ",".join([first.hostport] + [m.hostport for m in rest])


def answers(zk, path):
    try:
        return zk.exists(path) is not None
    except Exception:  # noqa: BLE001 - ConnectionLoss while it moves
        return False


def lost_listener(zk):
    lost = threading.Event()
    zk.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)
    return lost


@pytest.mark.timeout(120)
def test_local_session_upgrades_on_its_first_ephemeral_and_then_moves(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=LOCAL)
    leader = ens.leader()
    follower = ens.followers()[0]
    zk = clients(first_then_rest(ens, follower), randomize_hosts=False)
    sid = zk.client_id[0]
    assert mntr(follower, "zk_local_sessions") == 1
    assert mntr(leader, "zk_global_sessions") == 0

    # Persistent writes go through without making the session global.
    zk.create("/ls/plain", b"p", makepath=True)
    assert zk.exists("/ls/plain").ephemeralOwner == 0
    assert mntr(leader, "zk_global_sessions") == 0

    # Its first ephemeral upgrades it: the same id, now known everywhere.
    zk.create("/ls/eph", b"e", ephemeral=True)
    assert zk.exists("/ls/eph").ephemeralOwner == sid
    assert zk.client_id[0] == sid
    wait_until(lambda: mntr(leader, "zk_global_sessions") == 1, 10, what="global on the leader")
    assert mntr(follower, "zk_local_sessions") == 0

    # A global session survives its member: the client moves on.
    lost = lost_listener(zk)
    follower.kill()
    wait_until(lambda: answers(zk, "/ls/eph"), 20, what="the client reconnected")
    assert zk.client_id[0] == sid and not lost.is_set()
    assert zk.exists("/ls/eph").ephemeralOwner == sid


@pytest.mark.timeout(120)
def test_a_local_session_does_not_survive_a_move_but_its_writes_do(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg=LOCAL)
    follower = ens.followers()[0]
    other = [m for m in ens.members if m is not follower][0]
    zk = clients(first_then_rest(ens, follower), randomize_hosts=False)
    zk.create("/ls/kept", b"k", makepath=True)
    lost = lost_listener(zk)
    follower.kill()
    # The next member has never heard of the session: it is expired there.
    assert lost.wait(20), "the client never heard its local session expired"
    seen = clients(other.hostport)
    assert seen.get("/ls/kept")[0] == b"k"


@pytest.mark.timeout(120)
def test_without_upgrading_an_ephemeral_is_refused(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg={"localSessionsEnabled": "true"})
    follower = ens.followers()[0]
    zk = clients(follower.hostport)
    with pytest.raises(EphemeralOnLocalSessionError):
        zk.create("/ls-eph", b"e", ephemeral=True)
    with pytest.raises(EphemeralOnLocalSessionError):
        _multi_with_ephemeral(zk)
    assert zk.exists("/ls-eph") is None and zk.exists("/ls-p") is None
    assert mntr(ens.leader(), "zk_global_sessions") == 0
    # The session is still fine for everything else.
    zk.create("/ls-p", b"p")
    assert zk.get("/ls-p")[0] == b"p"


def _multi_with_ephemeral(zk):
    """A multi holding an ephemeral create: kazoo reports the first error
    of the failed transaction by raising it from commit's result."""
    t = zk.transaction()
    t.create("/ls-p", b"")
    t.create("/ls-e", b"", ephemeral=True)
    results = t.commit()
    for r in results:
        if isinstance(r, Exception):
            raise r
    return results


@pytest.mark.timeout(120)
def test_a_silent_local_session_expires_on_its_member(ensemble_factory):
    ens = ensemble_factory(3, extra_cfg=dict(LOCAL, tickTime="200", minSessionTimeout="1000"))
    follower = ens.followers()[0]
    s = RawSession(follower.hostport, timeout_ms=1000)
    assert mntr(follower, "zk_local_sessions") == 1
    s.drop()  # no more pings
    wait_until(lambda: mntr(follower, "zk_local_sessions") == 0, 10, what="local session expired")
    with pytest.raises(Closed, match="expired"):
        s.reconnect(follower.hostport)
    # A wrong password is refused too, on a live one.
    t = RawSession(follower.hostport, timeout_ms=4000)
    t.drop()
    t.passwd = b"\x01" * 16
    with pytest.raises(Closed, match="expired"):
        t.reconnect(follower.hostport)


def test_a_standalone_member_has_no_local_sessions(ensemble_factory):
    ens = ensemble_factory(1, extra_cfg=LOCAL)
    zk = KazooClient(hosts=ens.members[0].hostport, timeout=4.0)
    zk.start(timeout=15)
    try:
        zk.create("/standalone-eph", b"", ephemeral=True)
        assert mntr(ens.members[0], "zk_local_sessions") == 0
    finally:
        zk.stop()
        zk.close()
