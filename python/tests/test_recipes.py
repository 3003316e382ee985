"""kazoo's recipes on zkrs.Client, each with several sessions of a real
member; and mixed with kazoo's own recipes on the same znodes (same node
layout, so the two line up in one queue)."""

import threading
import time

import pytest

import zkrs


@pytest.fixture
def more(member):
    """Extra zkrs clients, each its own session; closed afterwards."""
    made = []

    def make():
        c = zkrs.Client(member.connect_string, timeout=10.0)
        c.start()
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


def test_lock_excludes_across_sessions(zk, more, root):
    zk.create(root + "/n", b"0")
    inside = threading.Lock()
    errors = []

    def worker(i):
        c = more()
        lock = c.Lock(root + "/lock", "w%d" % i)
        for _ in range(10):
            with lock:
                if not inside.acquire(blocking=False):
                    errors.append("two holders at once")
                value, _ = c.get(root + "/n")
                c.set(root + "/n", str(int(value) + 1).encode())
                inside.release()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert zk.get(root + "/n")[0] == b"30"


def test_lock_try_timeout_and_contenders(zk, more, root):
    a = zk.Lock(root + "/l", "alice")
    b = zkrs.Lock(more(), root + "/l", "bob")
    assert a.acquire()
    assert a.is_acquired
    assert not b.acquire(blocking=False)
    with pytest.raises(zkrs.LockTimeout):  # kazoo's answer to a timeout
        b.acquire(timeout=0.2)
    assert a.contenders() == ["alice"]  # bob left the queue
    assert a.release()
    assert b.acquire(timeout=5)
    assert not a.is_acquired


def test_lock_is_lost_with_the_session(zk, more, root):
    holder = more()
    lock = holder.Lock(root + "/l", "h")
    assert lock.acquire()
    holder.stop()  # closes the session: the lock node goes with it
    assert not lock.is_acquired
    assert zk.Lock(root + "/l", "next").acquire(timeout=5)


def test_zkrs_and_kazoo_locks_share_one_queue(zk, kazoo, root):
    mine = zk.Lock(root + "/shared", "zkrs")
    theirs = kazoo.Lock(root + "/shared", "kazoo")
    assert theirs.acquire(timeout=5)
    assert not mine.acquire(blocking=False), "kazoo holds it"
    assert theirs.release()
    assert mine.acquire(timeout=5)
    assert not theirs.acquire(blocking=False), "zkrs holds it"
    assert theirs.contenders() == ["zkrs"]
    assert mine.release()


def test_read_and_write_locks(zk, more, root):
    r1 = zkrs.ReadLock(zk, root + "/rw", "r1")
    r2 = more().ReadLock(root + "/rw", "r2")
    w = zkrs.WriteLock(more(), root + "/rw", "w")
    assert r1.acquire() and r2.acquire(timeout=2)
    assert not w.acquire(blocking=False)
    r1.release()
    r2.release()
    assert w.acquire(timeout=5)


def test_semaphore_leases(zk, more, root):
    sems = [c.Semaphore(root + "/sem", "s%d" % i, max_leases=2)
            for i, c in enumerate([zk, more(), more()])]
    assert sems[0].acquire() and sems[1].acquire()
    assert not sems[2].acquire(blocking=False)
    with pytest.raises(zkrs.LockTimeout):
        sems[2].acquire(timeout=0.3)
    assert sorted(sems[2].lease_holders()) == ["s0", "s1"]
    sems[0].release()
    assert sems[2].acquire(timeout=5)
    with pytest.raises(ValueError):
        zk.Semaphore(root + "/bad", max_leases=0)
    with pytest.raises(ValueError):  # kazoo's check: one max_leases per path
        zk.Semaphore(root + "/sem", max_leases=3).acquire(blocking=False)


def test_election_runs_one_leader_at_a_time(more, root):
    running = []
    ran = []
    errors = []

    def lead(i):
        if running:
            errors.append("two leaders")
        running.append(i)
        time.sleep(0.05)
        running.remove(i)
        ran.append(i)
        return i * 10

    results = []

    def candidate(i):
        results.append(more().Election(root + "/e", "c%d" % i).run(lead, i))

    threads = [threading.Thread(target=candidate, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(ran) == [0, 1, 2]
    assert sorted(results) == [0, 10, 20]


def test_counter(zk, more, root):
    c = zk.Counter(root + "/count", default=5)
    assert c.value == 5
    c += 3
    assert (c.pre_value, c.post_value, c.value) == (5, 8, 8)
    c -= 1
    assert c.value == 7
    other = more().Counter(root + "/count")
    other += 10
    assert c.value == 17
    # kazoo reads the same counter (decimal text).
    assert zk.get(root + "/count")[0] == b"17"


def test_barriers(zk, more, root):
    b = zk.Barrier(root + "/gate")
    b.create()
    assert not more().Barrier(root + "/gate").wait(timeout=0.2)
    passed = []
    waiter = more().Barrier(root + "/gate")
    t = threading.Thread(target=lambda: passed.append(waiter.wait(timeout=10)))
    t.start()
    time.sleep(0.1)
    assert b.remove()
    t.join(10)
    assert passed == [True]

    entered = []

    def member(i):
        db = more().DoubleBarrier(root + "/db", 3, "m%d" % i)
        db.enter(timeout=10)
        entered.append(i)
        db.leave(timeout=10)

    threads = [threading.Thread(target=member, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(20)
    assert sorted(entered) == [0, 1, 2]


def test_queue_priority_and_fifo(zk, root):
    q = zk.Queue(root + "/q")
    assert q.get() is None
    q.put(b"a")
    q.put_all([b"b", b"c"])
    q.put(b"first", priority=1)
    assert len(q) == 4
    assert [q.get() for _ in range(5)] == [b"first", b"a", b"b", b"c", None]


def test_locking_queue_hands_an_item_to_one_worker_until_consumed(zk, more, root):
    q = zk.LockingQueue(root + "/lq")
    other_client = more()
    other = other_client.LockingQueue(root + "/lq")
    q.put_all([b"a", b"b"])
    q.put(b"urgent", priority=0)
    assert q.get(1) == b"urgent"
    assert q.get(1) == b"urgent"  # held: the same item again
    assert other.get(1) == b"a"  # the held one is skipped
    assert q.holds_lock() and other.holds_lock()
    assert q.consume() and not q.consume()
    assert len(q) == 2
    other_client.stop()  # its session ends: "a" is offered again
    assert q.get(5) == b"a"
    assert q.release()
    assert q.get(0) == b"a"
    with pytest.raises(ValueError):
        q.put(b"x", priority=1000)
    with pytest.raises(TypeError):
        q.put("text")


def test_counter_kinds(zk, root):
    f = zk.Counter(root + "/f", default=0.5)
    f += 2.0
    assert f.value == 2.5 and f.post_value == 2.5
    with pytest.raises(TypeError):
        f += 1
    cur = zk.Counter(root + "/cur", support_curator=True)
    cur += 7
    assert zk.get(root + "/cur")[0] == (7).to_bytes(4, "big")
    with pytest.raises(TypeError):
        zk.Counter(root + "/bad", default=0.0, support_curator=True)


def test_leases_are_exclusive_until_they_end(zk, more, root):
    import datetime

    now = [datetime.datetime(2026, 1, 1, 12, 0, 0)]
    clock = lambda: now[0]  # noqa: E731
    hour = datetime.timedelta(hours=1)
    other = more()
    assert zk.NonBlockingLease(root + "/lease", hour, "a", utcnow=clock)
    assert not other.NonBlockingLease(root + "/lease", hour, "b", utcnow=clock)
    assert zk.NonBlockingLease(root + "/lease", hour, "a", utcnow=clock).obtained  # renew
    now[0] += 2 * hour
    assert other.NonBlockingLease(root + "/lease", hour, "b", utcnow=clock)
    two = [zkrs.MultiNonBlockingLease(c, 2, root + "/multi", hour, i, utcnow=clock)
           for i, c in [("x", zk), ("y", other), ("z", more())]]
    assert [bool(l) for l in two] == [True, True, False]


def test_server_version_and_command(zk):
    assert zk.server_version()[:2] == (3, 8)
    assert zk.command(b"ruok") == "imok"


def test_party_membership(zk, more, root):
    p = zk.Party(root + "/party", "zero")
    other = more()
    q = other.Party(root + "/party", "one")
    p.join()
    q.join()
    assert sorted(p) == ["one", "zero"] and len(p) == 2
    assert q.participating
    other.stop()
    assert list(p) == ["zero"]
    s = zk.ShallowParty(root + "/shallow", "worker")
    s.join()
    assert list(s) == ["worker"]
    assert s.leave() and len(s) == 0
    with pytest.raises(ValueError):
        zk.ShallowParty(root + "/shallow", "a/b")


def test_data_and_children_watch(zk, root, events):
    path = root + "/w"
    kids = []

    @zk.DataWatch(path)
    def changed(data, stat):
        events((data, stat.version if stat else None))

    missing = zk.ChildrenWatch(path, lambda names: kids.append(names))
    assert missing._stopped and kids == [], "kazoo: no node, no children watch"
    events.wait(1)
    zk.create(path, b"1")
    events.wait(2)
    cw = zk.ChildrenWatch(path, lambda names: kids.append(sorted(names)))
    zk.set(path, b"2")
    events.wait(3)
    zk.create(path + "/a")
    deadline = time.time() + 5
    while kids != [[], ["a"]] and time.time() < deadline:
        time.sleep(0.02)
    cw.stop()
    zk.delete(path, recursive=True)
    assert events.wait(4) == [(None, None), (b"1", 0), (b"2", 1), (None, None)]
    assert kids == [[], ["a"]]


def test_watch_functions_get_the_event_and_a_watch_takes_one(zk, root):
    path = root + "/e"
    seen = []
    dw = zk.DataWatch(path, lambda data, stat, event: seen.append(event and event.type))
    zk.create(path, b"1")
    kids = []
    cw = zk.ChildrenWatch(path, lambda names, event: kids.append(event), send_event=True)
    zk.create(path + "/c")
    deadline = time.time() + 5
    while (len(seen) < 2 or len(kids) < 2) and time.time() < deadline:
        time.sleep(0.02)
    assert seen == [None, zkrs.EventType.CREATED]
    assert kids[0] is None and kids[1].type == zkrs.EventType.CHILD
    with pytest.raises(zkrs.ConfigurationError):
        dw(lambda data, stat: None)
    with pytest.raises(zkrs.ConfigurationError):
        cw(lambda names: None)
    zk.delete(path, recursive=True)
    deadline = time.time() + 5
    while not cw._stopped and time.time() < deadline:
        time.sleep(0.02)
    assert cw._stopped, "the node's deletion ends a children watch"


def test_a_data_watch_stops_when_its_callback_returns_false(zk, root, events):
    path = root + "/once"
    zk.create(path, b"x")

    def once(data, stat):
        events(data)
        return False

    zk.DataWatch(path, once)
    events.wait(1)
    zk.set(path, b"y")
    time.sleep(0.3)
    assert events.items == [b"x"]


def test_recipes_need_a_started_client(member):
    c = zkrs.Client(member.connect_string)
    with pytest.raises(zkrs.ConnectionClosedError):
        c.Lock("/x")


def test_watch_callbacks_may_call_the_client(zk, root):
    """Callbacks run on zkrs threads; blocking calls from several of them
    at once must not starve the runtime that answers those calls."""
    seen = {}
    done = threading.Event()
    paths = [root + "/w%d" % i for i in range(4)]
    for p in paths:
        zk.create(p + "/child", b"payload", makepath=True)

    def watcher(p):
        def on_children(children):
            seen[p] = [zk.get(p + "/" + c)[0] for c in children]
            if len(seen) == len(paths):
                done.set()
        return on_children

    for p in paths:
        zk.ChildrenWatch(p, watcher(p))
    assert done.wait(10), seen
    assert all(v == [b"payload"] for v in seen.values())


def test_zkrs_and_kazoo_partitioners_split_one_set(zk, kazoo, root):
    items = [3, 1, 2, 10]  # kazoo sorts the Python way: 1, 2, 3, 10
    mine = zk.SetPartitioner(root + "/p", items, identifier="a", time_boundary=0.2)
    theirs = kazoo.SetPartitioner(root + "/p", items, identifier="b", time_boundary=0.2)
    for p in (mine, theirs):
        p.wait_for_acquire(10)
    assert mine.state == zkrs.PartitionState.ACQUIRED
    assert list(mine) == [1, 3] and list(theirs) == [2, 10]
    theirs.finish()
    deadline = time.monotonic() + 10
    while not mine.release and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mine.state_change_event.is_set()
    mine.release_set()
    mine.wait_for_acquire(10)
    assert list(mine) == [1, 2, 3, 10]
    mine.finish()
    assert mine.failed


def test_partitioner_with_a_split_function(zk, root):
    def evens(identifier, members, items):
        assert members == [identifier]
        return [i for i in items if i % 2 == 0]

    p = zk.SetPartitioner(root + "/q", range(5), partition_func=evens, time_boundary=0.1)
    p.wait_for_acquire(10)
    assert p.acquired and list(p) == [0, 2, 4]
    assert sorted(zk.get_children(root + "/q/locks")) == ["0", "2", "4"]
    p.finish()


def test_service_registry_live_set(member):
    a = zkrs.Client(member.connect_string)
    b = zkrs.Client(member.connect_string)
    a.start()
    b.start()
    try:
        ra, rb = a.ServiceRegistry("/svc"), zkrs.ServiceRegistry(b, "/svc")
        seen = []
        changed = threading.Event()

        def on_change(instances):
            seen.append([i for i, _ in instances])
            changed.set()

        watch = rb.watch("api", on_change)
        ra.register("api", "a1", b"10.0.0.1:80")
        rb.register("api", "b1")
        assert rb.instances("api") == [("a1", b"10.0.0.1:80"), ("b1", b"")]
        with pytest.raises(zkrs.NodeExistsError):
            rb.register("api", "a1", b"mine")
        with pytest.raises(zkrs.BadArgumentsError):
            rb.register("api", "x/y")
        ra.register("api", "a1", b"10.0.0.1:81")  # its own: an update
        assert ra.instances("api")[0] == ("a1", b"10.0.0.1:81")
        a.stop()  # a's session ends: its instance goes
        deadline = time.time() + 10
        while seen[-1:] != [["b1"]] and time.time() < deadline:
            time.sleep(0.02)
        assert seen[0] == [] and seen[-1] == ["b1"]
        assert watch.running
        watch.stop()
        assert rb.unregister("api", "b1")
        assert not rb.unregister("api", "b1")
        assert rb.instances("api") == []
        assert rb.unregister_async("api", "b1").get(timeout=5) is False
    finally:
        a.stop()
        b.stop()


def test_tree_cache_mirrors_and_reports(zk, root):
    events = []
    got = threading.Condition()

    def listener(event):
        with got:
            events.append(event)
            got.notify_all()

    def wait_for(kind, path):
        def seen():
            return any(
                e.event_type == kind and (e.event_data is None or e.event_data.path == path) for e in events
            )

        with got:
            assert got.wait_for(seen, timeout=10), (kind, path, events)

    zk.create(root + "/a", b"1")
    cache = zkrs.TreeCache(zk, root)
    cache.listen(listener)
    cache.start()
    with pytest.raises(RuntimeError):
        cache.start()
    wait_for(zkrs.TreeEvent.INITIALIZED, None)
    assert cache.get_children(root) == frozenset({"a"})
    node = cache.get_data(root + "/a")
    assert node.data == b"1" and node.stat.version == 0 and node.path == root + "/a"
    zk.create(root + "/b", b"2")
    wait_for(zkrs.TreeEvent.NODE_ADDED, root + "/b")
    zk.set(root + "/a", b"3")
    wait_for(zkrs.TreeEvent.NODE_UPDATED, root + "/a")
    assert cache.get_data(root + "/a").data == b"3"
    zk.delete(root + "/b")
    wait_for(zkrs.TreeEvent.NODE_REMOVED, root + "/b")
    assert cache.get_data(root + "/b") is None
    assert cache.get_children(root) == frozenset({"a"})
    cache.close()
    assert cache.get_data(root) is None
