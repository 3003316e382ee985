"""The kazoo-shaped API: create modes, reads, writes, ACLs, transactions,
session listeners, conversions."""

import threading
import time

import pytest

import zkrs
from zkrs import ACL, Id, Permissions, ZnodeStat


def test_create_get_set_delete(zk, root):
    p = root + "/n"
    assert zk.create(p, b"v1") == p
    data, stat = zk.get(p)
    assert data == b"v1"
    assert isinstance(stat, ZnodeStat)
    assert stat.version == 0 and stat.dataLength == 2 and stat.data_length == 2
    assert stat.owner_session_id is None
    assert stat.created == stat.ctime / 1000.0
    st = zk.set(p, b"v2", version=0)
    assert st.version == 1 and st.last_modified_transaction_id == st.mzxid
    assert zk.get(p)[0] == b"v2"
    assert zk.delete(p, version=1) is True
    assert zk.exists(p) is None


def test_null_data_is_none_not_empty(zk, root):
    zk.create(root + "/null", None)
    zk.create(root + "/empty")
    assert zk.get(root + "/null")[0] is None
    assert zk.get(root + "/empty")[0] == b""
    zk.set(root + "/empty", None)
    assert zk.get(root + "/empty")[0] is None
    assert zk.get_async(root + "/empty").get(timeout=10)[0] is None
    zk.set_async(root + "/empty", b"").get(timeout=10)
    assert zk.get(root + "/empty")[0] == b""
    t = zk.transaction()
    t.create(root + "/t", None)
    t.commit()
    assert zk.get(root + "/t")[0] is None


def test_create_modes(zk, root):
    eph = zk.create(root + "/e", ephemeral=True)
    assert zk.exists(eph).ephemeralOwner == zk.client_id[0]
    s1 = zk.create(root + "/s-", sequence=True)
    s2 = zk.create(root + "/s-", b"", ephemeral=True, sequence=True)
    assert s1 == root + "/s-0000000001" and s2 == root + "/s-0000000002"
    c = zk.create(root + "/c", container=True)
    # ZooKeeper shows clients 0 for container and TTL owners (DataNode.copyStat)
    assert c == root + "/c" and zk.exists(c).ephemeralOwner == 0
    path, stat = zk.create(root + "/d", b"xyz", include_data=True)
    assert path == root + "/d" and stat.dataLength == 3


def test_makepath_and_ensure_path(zk, root):
    assert zk.create(root + "/a/b/c", b"deep", makepath=True) == root + "/a/b/c"
    assert zk.get(root + "/a/b/c")[0] == b"deep"
    assert zk.ensure_path(root + "/x/y/z") is True
    assert zk.ensure_path(root + "/x/y/z") is True
    assert zk.exists(root + "/x/y/z") is not None


def test_recursive_delete(zk, root):
    zk.create(root + "/r/a/b", makepath=True)
    zk.create(root + "/r/c")
    with pytest.raises(zkrs.NotEmptyError):
        zk.delete(root + "/r")
    zk.delete(root + "/r", recursive=True)
    assert zk.exists(root + "/r") is None
    zk.delete(root + "/never-there", recursive=True)  # like kazoo: no error


def test_children(zk, root):
    for name in ("b", "a", "c"):
        zk.create(f"{root}/{name}")
    assert sorted(zk.get_children(root)) == ["a", "b", "c"]
    names, stat = zk.get_children(root, include_data=True)
    assert sorted(names) == ["a", "b", "c"] and stat.numChildren == 3
    assert stat.children_count == 3


def test_acls(zk, root):
    acls, stat = zk.get_acls(root)
    assert acls == zkrs.OPEN_ACL_UNSAFE
    assert isinstance(acls[0], ACL) and isinstance(acls[0].id, Id)
    st = zk.set_acls(root, [ACL(Permissions.READ | Permissions.ADMIN, Id("world", "anyone"))])
    assert st.aversion == 1 and st.acl_version == 1
    with pytest.raises(zkrs.NoAuthError):
        zk.set(root, b"no write permission")
    zk.set_acls(root, zkrs.OPEN_ACL_UNSAFE, version=1)


def test_kazoo_acl_objects_are_accepted(zk, root):
    from kazoo.security import OPEN_ACL_UNSAFE, make_digest_acl

    acl = make_digest_acl("alice", "secret", all=True)
    zk.create(root + "/k", acl=[acl])
    zk.create(root + "/o", acl=OPEN_ACL_UNSAFE)
    with pytest.raises(zkrs.NoAuthError):  # getACL needs READ or ADMIN
        zk.get_acls(root + "/k")
    zk.add_auth("digest", "alice:secret")
    acls, _ = zk.get_acls(root + "/k")
    assert acls[0].id.scheme == "digest" and acls[0].perms == Permissions.ALL


def test_sync(zk, root):
    assert zk.sync(root) == root


def test_transaction_success(zk, root):
    zk.create(root + "/old", b"1")
    t = zk.transaction()
    t.create(root + "/new", b"n")
    t.create(root + "/seq-", sequence=True)
    t.set_data(root + "/old", b"2")
    t.check(root + "/old", 1)
    t.delete(root + "/new")
    res = t.commit()
    assert res[0] == root + "/new"
    assert res[1] == root + "/seq-0000000002"
    assert isinstance(res[2], ZnodeStat) and res[2].version == 1
    assert res[3] is True and res[4] is True
    with pytest.raises(ValueError):
        t.commit()


def test_transaction_failure_gives_exceptions_in_place(zk, root):
    zk.create(root + "/x")
    t2 = zk.transaction()
    t2.create(root + "/y")
    t2.check(root + "/x", 7)
    t2.delete(root + "/missing")
    res = t2.commit()
    assert isinstance(res[0], zkrs.RolledBackError)
    assert isinstance(res[1], zkrs.BadVersionError)
    assert isinstance(res[2], zkrs.RuntimeInconsistency)
    assert zk.exists(root + "/y") is None


def test_transaction_context_manager_commits(zk, root):
    with zk.transaction() as t:
        t.create(root + "/in-with", b"w")
    assert zk.get(root + "/in-with")[0] == b"w"
    with pytest.raises(RuntimeError):
        with zk.transaction() as t:
            t.create(root + "/not-sent")
            raise RuntimeError("abort")
    assert zk.exists(root + "/not-sent") is None


def test_listener_states_and_client_id(member, events):
    c = zkrs.Client(member.connect_string)
    assert c.client_id is None and c.state == "LOST" and not c.connected
    c.add_listener(events)
    c.start()
    assert c.connected and c.state == zkrs.KazooState.CONNECTED
    sid, passwd = c.client_id
    assert sid != 0 and isinstance(passwd, bytes) and len(passwd) == 16
    c.stop()
    assert events.wait(2) == ["CONNECTED", "LOST"]
    with pytest.raises(zkrs.ConnectionClosedError):
        c.get("/")
    c.close()


def test_client_is_not_started_until_start(member):
    c = zkrs.Client(member.connect_string)
    with pytest.raises(zkrs.ConnectionClosedError) as e:
        c.exists("/")
    assert isinstance(e.value, zkrs.SessionExpiredError)


def test_calls_release_the_gil(zk, root):
    """Many Python threads block in zkrs calls at once; each call runs
    with the GIL released, so they overlap instead of queueing."""
    errors = []

    def work(i):
        try:
            for j in range(20):
                zk.create(f"{root}/t{i}-{j}", b"x")
                zk.get(f"{root}/t{i}-{j}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(zk.get_children(root)) == 160


def test_bad_argument_types(zk, root):
    with pytest.raises(TypeError):
        zk.create(root + "/s", "not bytes")
    with pytest.raises(TypeError):
        zk.get(root, watch=42)
    with pytest.raises(ValueError):
        zkrs.Client("127.0.0.1:1", timeout=-1)


def test_async_calls_settle_handler_results(zk, root):
    created = zk.create_async(root + "/a", b"1", include_data=True)
    path, stat = created.get(timeout=5)
    assert path == root + "/a" and stat.version == 0
    done = threading.Event()
    got = []

    def seen(result):
        got.append(result.get())
        done.set()

    zk.get_async(root + "/a").rawlink(seen)
    assert done.wait(5) and got[0][0] == b"1"
    assert zk.set_async(root + "/a", b"2").get(timeout=5).version == 1
    assert zk.get_children_async(root).get(timeout=5) == ["a"]
    assert zk.exists_async(root + "/none").get(timeout=5) is None
    failed = zk.delete_async(root + "/none")
    failed.wait(5)
    assert not failed.successful()
    assert isinstance(failed.exception, zkrs.NoNodeError)
    with pytest.raises(zkrs.NoNodeError):
        failed.get()
    t = zk.transaction()
    t.create(root + "/b")
    t.delete(root + "/a")
    assert t.commit_async().get(timeout=5) == [root + "/b", True]


def test_async_calls_go_out_in_call_order(zk, root):
    # Each call's request is queued before the call returns: a create, a
    # set and a delete issued back to back without waiting always succeed
    # (spawned on the runtime, about half came out of order).
    results = []
    for i in range(200):
        path = "%s/o%d" % (root, i)
        results += [zk.create_async(path, b"x"), zk.set_async(path, b"y"), zk.delete_async(path)]
    for r in results:
        r.get(timeout=10)


def test_async_callbacks_run_in_call_order(zk, root):
    # Replies come in call order and their callbacks run in that order, as
    # on kazoo's callback thread: a TreeCache reads a parent, then the child
    # its listing found, and must hear them in that order. (Settled each on
    # its own task, callbacks of back-to-back calls ran out of order.)
    zk.create(root + "/order", b"x")
    order, done = [], threading.Event()
    n = 400

    def note(i):
        def cb(result):
            order.append(i)
            if len(order) == n:
                done.set()
        return cb

    for i in range(n):
        call = zk.get_async if i % 2 else zk.get_children_async
        call(root + "/order").rawlink(note(i))
    assert done.wait(20)
    assert order == list(range(n))


def test_async_on_a_stopped_client_is_a_failed_result(member):
    c = zkrs.Client(member.connect_string)
    result = c.get_async("/")
    assert result.ready() and isinstance(result.exception, zkrs.ConnectionClosedError)


def test_one_shot_watches_follow_kazoos_tables(zk, root):
    fired = []

    def once(event):
        fired.append(("once", event.type))

    def dropped(event):
        fired.append(("dropped", event.type))

    zk.create(root + "/w", b"")
    zk.get(root + "/w", once)
    zk.exists(root + "/w", once)  # the same callable: called once
    zk.get(root + "/w", dropped)
    full = zk.chroot + root + "/w"
    assert zk._data_watchers[full] == {once, dropped}
    zk._data_watchers[full].discard(dropped)  # kazoo's TreeCache does so
    zk.set(root + "/w", b"x")
    deadline = time.time() + 5
    while not fired and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert fired == [("once", zkrs.EventType.CHANGED)]
    assert not zk._data_watchers.get(full)
