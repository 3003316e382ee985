"""kazoo: one-shot data/child/exists watches and persistent watches."""

from kazoo.protocol.states import EventType

import kazoo_ext
from compat_util import Events


def test_data_watch_fires_once(zk, client_factory, base):
    other = client_factory()
    zk.create(base + "/n", b"0")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    other.set(base + "/n", b"1")
    e = ev.get()
    assert e.type == EventType.CHANGED and e.path == base + "/n"
    other.set(base + "/n", b"2")  # one-shot: no second event
    ev.none_within(0.7)


def test_data_watch_on_delete(zk, base):
    zk.create(base + "/n")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    zk.delete(base + "/n")
    e = ev.get()
    assert e.type == EventType.DELETED and e.path == base + "/n"


def test_child_watch(zk, client_factory, base):
    other = client_factory()
    ev = Events()
    assert zk.get_children(base, watch=ev) == []
    other.create(base + "/kid")
    e = ev.get()
    assert e.type == EventType.CHILD and e.path == base
    other.create(base + "/kid2")
    ev.none_within(0.5)
    # a data change of the parent does not fire a child watch
    zk.get_children(base, watch=ev)
    other.set(base, b"x")
    ev.none_within(0.5)
    other.delete(base + "/kid")
    assert ev.get().type == EventType.CHILD


def test_exists_watch_on_missing_node(zk, client_factory, base):
    other = client_factory()
    ev = Events()
    assert zk.exists(base + "/later", watch=ev) is None
    other.create(base + "/later", b"now")
    e = ev.get()
    assert e.type == EventType.CREATED and e.path == base + "/later"
    other.set(base + "/later", b"again")
    ev.none_within(0.5)


def test_exists_watch_on_existing_node(zk, base):
    zk.create(base + "/n")
    ev = Events()
    assert zk.exists(base + "/n", watch=ev)
    zk.set(base + "/n", b"x")
    assert ev.get().type == EventType.CHANGED


def test_watch_event_before_later_reply(zk, client_factory, base):
    # A client sees the watch event before the result of a later read.
    other = client_factory()
    zk.create(base + "/n", b"0")
    ev = Events()
    zk.get(base + "/n", watch=ev)
    other.set(base + "/n", b"1")
    other.sync(base)
    # the event must already be queued when zk's read of the new value returns
    zk.sync(base + "/n")
    assert zk.get(base + "/n")[0] == b"1"
    assert ev.get(timeout=2).type == EventType.CHANGED


def test_persistent_watch(zk, client_factory, base):
    other = client_factory()
    zk.create(base + "/p", b"0")
    ev = Events()
    kazoo_ext.add_watch(zk, base + "/p", ev, kazoo_ext.PERSISTENT)
    other.set(base + "/p", b"1")
    other.set(base + "/p", b"2")  # still registered after firing
    other.create(base + "/p/kid")
    other.create(base + "/p/kid/grandkid")  # not a change of /p's children
    other.set(base + "/p/kid", b"x")  # not watched
    other.delete(base + "/p/kid/grandkid")
    other.delete(base + "/p/kid")
    other.delete(base + "/p")
    other.create(base + "/p")
    got = [(e.type, e.path) for e in [ev.get() for _ in range(6)]]
    p = base + "/p"
    assert got == [
        (EventType.CHANGED, p),
        (EventType.CHANGED, p),
        (EventType.CHILD, p),
        (EventType.CHILD, p),
        (EventType.DELETED, p),
        (EventType.CREATED, p),
    ]
    ev.none_within(0.5)


def test_persistent_recursive_watch(zk, client_factory, base):
    other = client_factory()
    ev = Events()
    r = base + "/r"
    kazoo_ext.add_watch(zk, r, ev, kazoo_ext.PERSISTENT_RECURSIVE)
    other.create(r)
    other.create(r + "/a")
    other.create(r + "/a/b", b"0")
    other.set(r + "/a/b", b"1")
    other.set(r + "/a/b", b"2")
    other.delete(r + "/a/b")
    other.create(base + "/r-sibling")  # outside the watched subtree
    got = [(e.type, e.path) for e in [ev.get() for _ in range(6)]]
    # recursive watches never send NodeChildrenChanged
    assert got == [
        (EventType.CREATED, r),
        (EventType.CREATED, r + "/a"),
        (EventType.CREATED, r + "/a/b"),
        (EventType.CHANGED, r + "/a/b"),
        (EventType.CHANGED, r + "/a/b"),
        (EventType.DELETED, r + "/a/b"),
    ]
    ev.none_within(0.5)
