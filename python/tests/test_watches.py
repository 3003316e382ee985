"""Watches fire into Python callables, on the client's event thread, with
kazoo-shaped WatchedEvent tuples."""

import threading

import zkrs
from zkrs import WatchedEvent


def test_data_watch_fires_on_change(zk, root, events):
    zk.get(root, watch=events)
    zk.set(root, b"changed")
    (ev,) = events.wait(1)
    assert isinstance(ev, WatchedEvent)
    assert ev == WatchedEvent("CHANGED", "CONNECTED", root)
    assert ev.type == zkrs.EventType.CHANGED and ev.state == zkrs.KeeperState.CONNECTED
    # runs on the client's event thread, not the caller's
    assert threading.current_thread().name not in events.threads


def test_exists_watch_fires_on_create_and_delete(zk, root, events):
    p = root + "/later"
    assert zk.exists(p, watch=events) is None
    zk.create(p)
    assert events.wait(1)[0] == WatchedEvent("CREATED", "CONNECTED", p)
    zk.exists(p, watch=events)
    zk.delete(p)
    assert events.wait(2)[1] == WatchedEvent("DELETED", "CONNECTED", p)


def test_child_watch(zk, root, events):
    zk.get_children(root, watch=events)
    zk.create(root + "/kid")
    assert events.wait(1)[0] == WatchedEvent("CHILD", "CONNECTED", root)


def test_one_shot_watch_fires_once(zk, root, events):
    zk.get(root, watch=events)
    zk.set(root, b"1")
    zk.set(root, b"2")
    events.wait(1)
    zk.sync(root)
    zk.get(root)  # replies come after earlier events
    assert len(events.items) == 1


def test_persistent_watch(zk, root, events):
    zk.add_watch(root, events)
    zk.set(root, b"1")
    zk.create(root + "/c")
    zk.set(root, b"2")
    got = events.wait(3)
    assert [e.type for e in got] == ["CHANGED", "CHILD", "CHANGED"]


def test_persistent_recursive_watch(zk, root, events):
    zk.add_watch(root, events, recursive=True)
    zk.create(root + "/a")
    zk.create(root + "/a/b", b"x")
    zk.set(root + "/a/b", b"y")
    zk.delete(root + "/a/b")
    got = events.wait(4)
    assert [(e.type, e.path) for e in got] == [
        ("CREATED", root + "/a"),
        ("CREATED", root + "/a/b"),
        ("CHANGED", root + "/a/b"),
        ("DELETED", root + "/a/b"),
    ]


def test_kazoo_write_fires_zkrs_watch(zk, kazoo, root, events):
    zk.get(root, watch=events)
    kazoo.set(root, b"from kazoo")
    assert events.wait(1)[0].type == "CHANGED"


def test_zkrs_write_fires_kazoo_watch(zk, kazoo, root, events):
    kazoo.get(root, watch=events)
    zk.set(root, b"from zkrs")
    assert events.wait(1)[0].type == "CHANGED"


def test_remove_watches(zk, root, events):
    zk.get(root, watch=events)
    zk.remove_watches(root, "DATA")
    got = events.wait(1)
    assert got[0].type == "DATA_WATCH_REMOVED"


def test_callback_may_call_the_client(zk, root, events):
    """A watch callback runs with the GIL and may use the client."""

    def reread(ev):
        events(zk.get(ev.path)[0])

    zk.get(root, watch=reread)
    zk.set(root, b"seen by callback")
    assert events.wait(1) == [b"seen by callback"]


def test_failing_callback_goes_to_unraisablehook(zk, root, events, monkeypatch):
    import sys

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def boom(ev):
        raise KeyError("in callback")

    zk.get(root, watch=boom)
    zk.get(root, watch=events)
    zk.set(root, b"x")
    events.wait(1)  # the next watcher still ran
    assert any(isinstance(e, KeyError) for e in seen)
