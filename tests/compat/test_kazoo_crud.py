"""kazoo: create/get/set/delete and the Stat fields they produce."""

import pytest
from kazoo.exceptions import (
    BadVersionError,
    NoNodeError,
    NodeExistsError,
    NotEmptyError,
)


def test_create_and_get_stat(zk, base):
    path = zk.create(base + "/n", b"hello")
    assert path == base + "/n"
    data, st = zk.get(path)
    assert data == b"hello"
    assert st.version == 0 and st.cversion == 0 and st.aversion == 0
    assert st.dataLength == 5 and st.numChildren == 0
    assert st.ephemeralOwner == 0
    assert st.czxid == st.mzxid == st.pzxid > 0
    assert st.ctime == st.mtime > 0


def test_create2_returns_stat(zk, base):
    path, st = zk.create(base + "/n", b"abc", include_data=True)
    assert path == base + "/n"
    _, st2 = zk.get(path)
    assert st == st2


def test_parent_stat_tracks_children(zk, base):
    _, p0 = zk.get(base)
    _, c1 = zk.create(base + "/a", include_data=True)
    _, p1 = zk.get(base)
    assert p1.numChildren == 1 and p1.cversion == p0.cversion + 1
    assert p1.pzxid == c1.czxid
    assert p1.version == p0.version and p1.mzxid == p0.mzxid  # data untouched
    zk.create(base + "/b")
    zk.delete(base + "/a")
    _, p2 = zk.get(base)
    assert p2.numChildren == 1 and p2.cversion == p0.cversion + 3
    assert p2.pzxid > p1.pzxid


def test_set_data_bumps_version_and_mzxid(zk, base):
    _, st0 = zk.create(base + "/n", b"v0", include_data=True)
    st1 = zk.set(base + "/n", b"v1-longer")
    assert st1.version == 1 and st1.dataLength == len(b"v1-longer")
    assert st1.czxid == st0.czxid and st1.mzxid > st0.mzxid
    assert st1.ctime == st0.ctime and st1.mtime >= st0.mtime
    assert st1.pzxid == st0.pzxid and st1.cversion == 0
    st2 = zk.set(base + "/n", b"")
    assert st2.version == 2 and st2.dataLength == 0
    assert zk.get(base + "/n")[0] == b""


def test_set_with_version(zk, base):
    zk.create(base + "/n", b"a")
    st = zk.set(base + "/n", b"b", version=0)
    assert st.version == 1
    with pytest.raises(BadVersionError):
        zk.set(base + "/n", b"c", version=0)
    with pytest.raises(BadVersionError):
        zk.set(base + "/n", b"c", version=7)
    assert zk.get(base + "/n")[0] == b"b"
    assert zk.set(base + "/n", b"d", version=-1).version == 2  # -1 = any


def test_delete_with_version(zk, base):
    zk.create(base + "/n", b"a")
    zk.set(base + "/n", b"b")
    with pytest.raises(BadVersionError):
        zk.delete(base + "/n", version=0)
    assert zk.exists(base + "/n")
    zk.delete(base + "/n", version=1)
    assert zk.exists(base + "/n") is None


def test_errors(zk, base):
    with pytest.raises(NoNodeError):
        zk.get(base + "/missing")
    with pytest.raises(NoNodeError):
        zk.set(base + "/missing", b"x")
    with pytest.raises(NoNodeError):
        zk.delete(base + "/missing")
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/missing")
    zk.create(base + "/n", b"1")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/n", b"2")
    assert zk.get(base + "/n")[0] == b"1"
    zk.create(base + "/n/c")
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/n")
    assert zk.exists(base + "/n/c")


def test_exists(zk, base):
    assert zk.exists(base + "/n") is None
    _, st = zk.create(base + "/n", b"xy", include_data=True)
    assert zk.exists(base + "/n") == st


def test_get_children_with_stat(zk, base):
    for name in ["c", "a", "b"]:
        zk.create(base + "/" + name, name.encode())
    kids, st = zk.get_children(base, include_data=True)
    assert sorted(kids) == ["a", "b", "c"]
    assert st.numChildren == 3 and st.cversion == 3
    assert zk.get_children(base + "/a") == []


def test_binary_and_large_data(zk, base):
    blob = bytes(range(256)) * 2000  # 512000 bytes, under jute.maxbuffer
    zk.create(base + "/bin", blob)
    data, st = zk.get(base + "/bin")
    assert data == blob and st.dataLength == len(blob)


def test_null_data_reads_back_as_none(zk, base):
    """ZooKeeper keeps null data apart from empty (kazoo's
    test_create_null_data / test_set_null_data)."""
    zk.create(base + "/null", None)
    zk.create(base + "/empty", b"")
    assert zk.get(base + "/null")[0] is None
    assert zk.get(base + "/empty")[0] == b""
    zk.create(base + "/was", b"hello world")
    zk.set(base + "/was", None)
    data, st = zk.get(base + "/was")
    assert data is None and st.dataLength == 0 and st.version == 1
    t = zk.transaction()
    t.set_data(base + "/null", b"")
    t.commit()
    assert zk.get(base + "/null")[0] == b""


def test_root_and_zookeeper_nodes(zk):
    assert "zookeeper" in zk.get_children("/")
    assert zk.exists("/zookeeper")
    data, st = zk.get("/")
    assert st.czxid == 0 and st.ephemeralOwner == 0


def test_sync(zk, client_factory, base):
    other = client_factory()
    other.create(base + "/n", b"from-other")
    assert zk.sync(base) == base
    assert zk.get(base + "/n")[0] == b"from-other"


def test_delete_recursive_and_ensure_path(zk, base):
    zk.ensure_path(base + "/x/y/z")
    assert zk.exists(base + "/x/y/z")
    zk.delete(base + "/x", recursive=True)
    assert zk.exists(base + "/x") is None
