"""Every ZooKeeper error arrives as its kazoo-named ZkError subclass, raised
where ZooKeeper raises it."""

import base64
import hashlib

import pytest

import zkrs
from zkrs import ACL, Id, Permissions
from zkrs import _native

# code -> class name, as kazoo.exceptions names them
KAZOO_NAMES = {
    0: "RolledBackError",
    -1: "SystemZookeeperError",
    -2: "RuntimeInconsistency",
    -3: "DataInconsistency",
    -4: "ConnectionLoss",
    -5: "MarshallingError",
    -6: "UnimplementedError",
    -7: "OperationTimeoutError",
    -8: "BadArgumentsError",
    -12: "UnknownSessionError",
    -13: "NewConfigNoQuorumError",
    -14: "ReconfigInProcessError",
    -100: "APIError",
    -101: "NoNodeError",
    -102: "NoAuthError",
    -103: "BadVersionError",
    -108: "NoChildrenForEphemeralsError",
    -110: "NodeExistsError",
    -111: "NotEmptyError",
    -112: "SessionExpiredError",
    -113: "InvalidCallbackError",
    -114: "InvalidACLError",
    -115: "AuthFailedError",
    -118: "SessionMovedError",
    -119: "NotReadOnlyCallError",
    -120: "EphemeralOnLocalSessionError",
    -121: "NoWatcherError",
    -122: "RequestTimeoutError",
    -123: "ReconfigDisabledError",
    -124: "SessionClosedRequireSaslError",
    -125: "QuotaExceededError",
    -127: "ThrottledOpError",
}


@pytest.mark.parametrize("code,name", sorted(KAZOO_NAMES.items()))
def test_code_maps_to_kazoo_named_class(code, name):
    cls = getattr(zkrs, name)
    assert issubclass(cls, zkrs.ZkError) and cls.code == code
    assert type(_native._error_for_code(code)) is cls


def test_names_and_codes_match_kazoo():
    from kazoo import exceptions as kx

    for code, name in KAZOO_NAMES.items():
        assert getattr(kx, name).code == code, name
    assert zkrs.ZookeeperError is zkrs.ZkError
    assert issubclass(zkrs.ConnectionClosedError, zkrs.SessionExpiredError)


def test_unknown_code_is_base_class():
    e = _native._error_for_code(-999)
    assert type(e) is zkrs.ZkError


def digest(user, password):
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


def test_no_node(zk, root):
    for call in (
        lambda: zk.get(root + "/x"),
        lambda: zk.set(root + "/x", b""),
        lambda: zk.delete(root + "/x"),
        lambda: zk.get_children(root + "/x"),
        lambda: zk.get_acls(root + "/x"),
        lambda: zk.create(root + "/x/y"),
    ):
        with pytest.raises(zkrs.NoNodeError):
            call()


def test_node_exists(zk, root):
    with pytest.raises(zkrs.NodeExistsError):
        zk.create(root)


def test_bad_version(zk, root):
    with pytest.raises(zkrs.BadVersionError):
        zk.set(root, b"", version=5)
    with pytest.raises(zkrs.BadVersionError):
        zk.delete(root, version=5)
    with pytest.raises(zkrs.BadVersionError):
        zk.set_acls(root, zkrs.OPEN_ACL_UNSAFE, version=5)


def test_not_empty(zk, root):
    zk.create(root + "/child")
    with pytest.raises(zkrs.NotEmptyError):
        zk.delete(root)


def test_no_children_for_ephemerals(zk, root):
    zk.create(root + "/eph", ephemeral=True)
    with pytest.raises(zkrs.NoChildrenForEphemeralsError):
        zk.create(root + "/eph/child")


def test_bad_arguments(zk, root):
    for path in ("no-slash", root + "/", root + "//x", root + "/."):
        with pytest.raises(zkrs.BadArgumentsError):
            zk.create(path)
    with pytest.raises(zkrs.BadArgumentsError):
        zk.create(root + "/e", ephemeral=True, container=True)


def test_no_auth_and_auth(member, zk, root):
    acl = [ACL(Permissions.ALL, Id("digest", digest("bob", "pw")))]
    zk.create(root + "/secret", b"s", acl=acl)
    with pytest.raises(zkrs.NoAuthError):
        zk.get(root + "/secret")
    with zkrs.Client(member.connect_string, auth_data=[("digest", b"bob:pw")]) as bob:
        assert bob.get(root + "/secret")[0] == b"s"
    zk.add_auth("digest", "bob:pw")
    assert zk.get(root + "/secret")[0] == b"s"


def test_invalid_acl(zk, root):
    with pytest.raises(zkrs.InvalidACLError):
        zk.create(root + "/a", acl=[])
    with pytest.raises(zkrs.InvalidACLError):  # "auth" with no authenticated id
        zk.create(root + "/b", acl=zkrs.CREATOR_ALL_ACL)


def test_auth_failed(member):
    with zkrs.Client(member.connect_string) as c:
        with pytest.raises(zkrs.AuthFailedError):
            c.add_auth("no-such-scheme", "x")


def test_no_watcher(zk, root):
    with pytest.raises(zkrs.NoWatcherError):
        zk.remove_watches(root, "DATA")


def test_rolled_back_and_runtime_inconsistency(zk, root):
    t = zk.transaction()
    t.create(root + "/ok")
    t.delete(root + "/missing")
    t.create(root + "/after")
    res = t.commit()
    assert [type(r) for r in res] == [
        zkrs.RolledBackError,
        zkrs.NoNodeError,
        zkrs.RuntimeInconsistency,
    ]


def test_unimplemented_ttl_without_extended_types(zk, root):
    # ZooKeeper answers TTL creates with Unimplemented unless
    # extendedTypesEnabled is set.
    with pytest.raises(zkrs.UnimplementedError):
        zk.create(root + "/ttl", ttl=5000)


def test_ttl_with_extended_types(tmp_path):
    cfg = (
        "tickTime=500\n"
        f"dataDir={tmp_path}\n"
        "clientPort=0\n"
        "extendedTypesEnabled=true\n"
    )
    with zkrs.Member(zoo_cfg=cfg) as m, zkrs.Client(m.connect_string) as c:
        assert c.create("/ttl", b"t", ttl=5000) == "/ttl"
        with pytest.raises(zkrs.BadArgumentsError):
            c.create("/ttl0", ttl=0)


def test_session_expired(member, events):
    """The server ends the session (zkrs.testing.expire_session takes it
    over on a connection of its own and closes it, retrying while the
    client's immediate reconnect takes it back): listeners hear LOST, the
    session's ephemerals are gone, and the client goes on in a new session
    (kazoo's behaviour)."""
    from zkrs.testing import expire_session

    c = zkrs.Client(member.connect_string, timeout=4.0)
    c.add_listener(events)
    c.start()
    old = c.client_id
    c.create("/mine", ephemeral=True)
    expire_session(c)
    assert c.exists("/mine") is None
    assert c.client_id is not None and c.client_id[0] != old[0]
    assert "LOST" in events.items
    assert events.items[-1] == "CONNECTED"
    c.close()


def test_connection_loss():
    m = zkrs.Member(tick_time=500)
    c = zkrs.Client(m.connect_string, timeout=5.0)
    c.start()
    c.create("/x")
    m.stop()
    with pytest.raises(zkrs.ConnectionLoss):
        c.set("/x", b"member is gone")
    assert c.state == "SUSPENDED"
    c.close()


def test_connection_loss_on_read_after_member_stop():
    m = zkrs.Member(tick_time=500)
    with zkrs.Client(m.connect_string, timeout=5.0) as c:
        c.create("/x")
        m.stop()
        with pytest.raises(zkrs.ConnectionLoss):
            c.get("/x")


def test_kazoo_retry_retries_lost_connections_only(zk):
    calls = []

    def flaky(n, fail=zkrs.ConnectionLoss):
        calls.append(n)
        if len(calls) < 3:
            raise fail("not yet")
        return n * 2

    retry = zkrs.KazooRetry(max_tries=5, delay=0.001, max_jitter=0.0)
    assert retry(flaky, 21) == 42 and len(calls) == 3
    calls.clear()
    with pytest.raises(zkrs.NoNodeError):
        retry(flaky, 1, fail=zkrs.NoNodeError)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(zkrs.RetryFailedError):
        zkrs.KazooRetry(max_tries=2, delay=0.001)(flaky, 1)
    assert len(calls) == 2
    assert zk.retry(zk.exists, "/") is not None
    with pytest.raises(zkrs.NoNodeError):
        zk.retry(zk.get, "/not-there")
