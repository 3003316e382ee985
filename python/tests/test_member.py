"""zkrs.Member in the test process serves zkrs.Client and kazoo alike."""

import zkrs


def test_member_serves_zkrs_and_kazoo(zk, kazoo, root):
    zk.create(root + "/from-zkrs", b"a")
    kazoo.create(root + "/from-kazoo", b"b")
    assert sorted(zk.get_children(root)) == ["from-kazoo", "from-zkrs"]
    assert sorted(kazoo.get_children(root)) == ["from-kazoo", "from-zkrs"]
    assert kazoo.get(root + "/from-zkrs")[0] == b"a"
    data, stat = zk.get(root + "/from-kazoo")
    assert data == b"b"
    kstat = kazoo.exists(root + "/from-kazoo")
    assert tuple(stat) == tuple(kstat)  # same 11 fields, same order


def test_member_context_manager_and_stop():
    with zkrs.Member(tick_time=500) as m:
        assert m.running
        host, port = m.connect_string.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        with zkrs.Client(m.connect_string) as c:
            assert c.create("/x", b"1") == "/x"
    assert not m.running
    m.stop()  # idempotent
    assert "stopped" in repr(m)


def test_two_members_are_independent():
    with zkrs.Member() as a, zkrs.Member() as b:
        assert a.connect_string != b.connect_string
        with zkrs.Client(a.connect_string) as ca, zkrs.Client(b.connect_string) as cb:
            ca.create("/only-a")
            assert cb.exists("/only-a") is None
