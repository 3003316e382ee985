"""kazoo: every create mode (containers and TTL nodes via kazoo_ext)."""

import pytest
from kazoo.exceptions import NoChildrenForEphemeralsError, NoNodeError

import kazoo_ext
from compat_util import wait_for

def test_persistent(zk, base):
    _, st = zk.create(base + "/p", b"x", include_data=True)
    assert st.ephemeralOwner == 0


def test_ephemeral_owner_and_no_children(zk, base):
    _, st = zk.create(base + "/e", b"x", ephemeral=True, include_data=True)
    assert st.ephemeralOwner == zk.client_id[0] != 0
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(base + "/e/child")


def test_sequential_suffix_from_parent_cversion(zk, base):
    p0 = zk.create(base + "/s-", b"", sequence=True)
    assert p0 == base + "/s-0000000000"
    zk.create(base + "/plain")
    _, pst = zk.get(base)
    assert pst.cversion == 2
    p1 = zk.create(base + "/s-", b"", sequence=True)
    assert p1 == base + "/s-%010d" % 2
    p2 = zk.create(base + "/other", b"", sequence=True)
    assert p2 == base + "/other%010d" % 3


def test_sequential_suffix_after_delete(zk, base):
    # Apache ZooKeeper 3.8 (observed): a delete bumps the parent's cversion
    # in the Stat, but the next sequence suffix counts only the creates made
    # under the parent so far.
    zk.create(base + "/s-", b"", sequence=True)  # suffix 0
    zk.create(base + "/plain")
    zk.delete(base + "/plain")
    assert zk.get(base)[1].cversion == 3
    p = zk.create(base + "/s-", b"", sequence=True)
    assert p == base + "/s-%010d" % 2
    assert zk.get(base)[1].cversion == 4
    zk.create(base + "/q")
    zk.delete(base + "/q")
    p = zk.create(base + "/s-", b"", sequence=True)
    assert p == base + "/s-%010d" % 4


def test_sequential_child_with_trailing_slash(zk, base):
    # A sequential create of "<parent>/" names the child by the counter alone.
    p = zk.create(base + "/", b"", sequence=True)
    assert p == base + "/0000000000"


def test_ephemeral_sequential(zk, base):
    p = zk.create(base + "/es-", b"d", ephemeral=True, sequence=True)
    assert p == base + "/es-0000000000"
    assert zk.exists(p).ephemeralOwner == zk.client_id[0]


def test_container_removed_after_last_child(zk, base):
    path, st = kazoo_ext.create_container(zk, base + "/c", b"box")
    assert path == base + "/c"
    # Stored as Long.MIN_VALUE, but ZooKeeper shows clients 0 for
    # container and TTL nodes (DataTree.getClientEphemeralOwner).
    assert st.ephemeralOwner == 0
    assert zk.exists(path).ephemeralOwner == 0
    zk.create(base + "/c/kid")
    zk.create(base + "/c/kid2")
    zk.delete(base + "/c/kid")
    # still has a child: must survive a few check intervals (500 ms)
    import time
    time.sleep(1.2)
    assert zk.exists(base + "/c")
    zk.delete(base + "/c/kid2")
    wait_for(lambda: zk.exists(base + "/c") is None, timeout=15, what="empty container removed")


def test_container_without_children_is_kept(zk, base):
    kazoo_ext.create_container(zk, base + "/c")
    import time
    time.sleep(1.5)  # three check intervals
    assert zk.exists(base + "/c")


def test_ttl_node_expires_when_unmodified(zk, base):
    path, st = kazoo_ext.create_ttl(zk, base + "/t", 300, b"ttl")
    assert path == base + "/t"
    # stored with 0xFF in the owner's high byte and the TTL below it, but
    # clients are shown ephemeralOwner 0 (DataTree.getClientEphemeralOwner)
    assert st.ephemeralOwner == 0
    assert zk.get(path)[0] == b"ttl"
    wait_for(lambda: zk.exists(path) is None, timeout=15, what="TTL node removed")


def test_ttl_sequential(zk, base):
    path, _ = kazoo_ext.create_ttl(zk, base + "/ts-", 300, sequence=True)
    assert path == base + "/ts-0000000000"
    wait_for(lambda: zk.exists(path) is None, timeout=15, what="TTL node removed")


def test_ttl_node_with_child_is_kept(zk, base):
    path, _ = kazoo_ext.create_ttl(zk, base + "/t", 200)
    zk.create(path + "/kid")
    import time
    time.sleep(1.5)
    assert zk.exists(path)


def test_container_under_missing_parent(zk, base):
    with pytest.raises(NoNodeError):
        kazoo_ext.create_container(zk, base + "/nope/c")
