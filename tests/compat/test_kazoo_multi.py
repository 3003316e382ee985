"""kazoo: multi (transactions) committed and rolled back."""

from kazoo.exceptions import (
    BadVersionError,
    NoNodeError,
    NodeExistsError,
    RolledBackError,
    RuntimeInconsistency,
)


def test_multi_committed(zk, base):
    zk.create(base + "/old", b"o")
    zk.create(base + "/gone")
    t = zk.transaction()
    t.create(base + "/a", b"1")
    t.create(base + "/a/b", b"2")
    t.set_data(base + "/old", b"new", version=0)
    t.check(base + "/old", 1)  # sees the set above
    t.delete(base + "/gone")
    res = t.commit()
    assert res[0] == base + "/a" and res[1] == base + "/a/b"
    assert res[2].version == 1  # set_data returns the new Stat
    assert res[3] is True and res[4] is True
    assert zk.get(base + "/a/b")[0] == b"2"
    assert zk.get(base + "/old")[0] == b"new"
    assert zk.exists(base + "/gone") is None
    # all ops of one multi share one zxid
    za = zk.exists(base + "/a").czxid
    assert zk.exists(base + "/a/b").czxid == za == zk.exists(base + "/old").mzxid


def test_multi_rolled_back(zk, base):
    zk.create(base + "/exists", b"e")
    t = zk.transaction()
    t.create(base + "/a", b"1")
    t.set_data(base + "/exists", b"2", version=5)  # fails: BadVersion
    t.create(base + "/c")
    t.delete(base + "/nope")
    res = t.commit()
    # Ops before the failing one report Ok (kazoo: RolledBackError), the
    # failing one its error, the ones after it RuntimeInconsistency.
    assert [type(r) for r in res] == [
        RolledBackError,
        BadVersionError,
        RuntimeInconsistency,
        RuntimeInconsistency,
    ]
    assert zk.exists(base + "/a") is None
    assert zk.exists(base + "/c") is None
    data, st = zk.get(base + "/exists")
    assert data == b"e" and st.version == 0
    assert zk.get(base)[1].numChildren == 1


def test_multi_rolled_back_by_check_and_exists(zk, base):
    zk.create(base + "/x")
    t = zk.transaction()
    t.create(base + "/y")
    t.create(base + "/x")  # NodeExists
    res = t.commit()
    assert isinstance(res[0], RolledBackError) and isinstance(res[1], NodeExistsError)
    assert zk.exists(base + "/y") is None
    t = zk.transaction()
    t.check(base + "/missing", 0)
    t.create(base + "/z")
    res = t.commit()
    assert isinstance(res[0], NoNodeError) and isinstance(res[1], RuntimeInconsistency)
    assert zk.exists(base + "/z") is None


def test_multi_sequential_and_ephemeral(zk, base):
    t = zk.transaction()
    t.create(base + "/s-", b"", sequence=True)
    t.create(base + "/s-", b"", sequence=True)
    t.create(base + "/e", b"", ephemeral=True)
    res = t.commit()
    assert res == [base + "/s-0000000000", base + "/s-0000000001", base + "/e"]
    assert zk.exists(base + "/e").ephemeralOwner == zk.client_id[0]


def test_empty_multi(zk):
    assert zk.transaction().commit() == []
