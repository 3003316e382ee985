"""zkrs.aio: the client's calls and the recipe tests of test_recipes.py
and kazoo's (locks, semaphore, election, counter, barriers, queues,
party, leases, partitioner, data and children watches), as coroutines on
one event loop (many sessions in one thread: a blocked loop would fail
them)."""

import asyncio
import datetime
import uuid

import pytest

import zkrs
import zkrs.aio


def run(main, member):
    async def with_clients():
        clients = [zkrs.aio.Client(member.connect_string, timeout=10.0) for _ in range(3)]
        await asyncio.gather(*(c.start() for c in clients))
        root = "/aio-" + uuid.uuid4().hex[:12]
        await clients[0].create(root)
        try:
            return await asyncio.wait_for(main(root, *clients), 60)
        finally:
            await clients[0].delete(root, recursive=True)
            for c in clients:
                await c.stop()

    return asyncio.run(with_clients())


def test_calls(member):
    async def main(root, zk, *_):
        assert zk.connected
        path, stat = await zk.create(root + "/a", b"1", include_data=True)
        assert path == root + "/a" and stat.version == 0
        assert (await zk.get(root + "/a"))[0] == b"1"
        assert (await zk.set(root + "/a", b"2")).version == 1
        assert await zk.get_children(root) == ["a"]
        assert await zk.exists(root + "/none") is None
        with pytest.raises(zkrs.NoNodeError):
            await zk.delete(root + "/none")
        assert await zk.ensure_path(root + "/x/y")
        t = zk.transaction()
        t.create(root + "/b")
        t.delete(root + "/a")
        assert await t.commit() == [root + "/b", True]
        assert await zk.sync_path(root) == root
        acls, _ = await zk.get_acls(root)
        assert acls[0].id.scheme == "world"
        fired = asyncio.Event()
        loop = asyncio.get_running_loop()
        await zk.exists(root + "/w", lambda event: loop.call_soon_threadsafe(fired.set))
        await zk.create(root + "/w")
        await asyncio.wait_for(fired.wait(), 5)

    run(main, member)


def test_lock_excludes_across_sessions(member):
    async def main(root, *clients):
        await clients[0].create(root + "/n", b"0")
        inside = []

        async def worker(c, i):
            lock = c.Lock(root + "/lock", "w%d" % i)
            for _ in range(10):
                async with lock:
                    inside.append(i)
                    assert len(inside) == 1, "two holders at once"
                    value, _ = await c.get(root + "/n")
                    await asyncio.sleep(0)  # let the others run meanwhile
                    await c.set(root + "/n", str(int(value) + 1).encode())
                    inside.remove(i)

        await asyncio.gather(*(worker(c, i) for i, c in enumerate(clients)))
        assert (await clients[0].get(root + "/n"))[0] == b"30"

    run(main, member)


def test_lock_try_timeout_and_cancel(member):
    async def main(root, zk, other, _):
        a = zk.Lock(root + "/l", "alice")
        b = other.Lock(root + "/l", "bob")
        assert await a.acquire()
        assert a.is_acquired
        assert not await b.acquire(blocking=False)
        with pytest.raises(zkrs.LockTimeout):
            await b.acquire(timeout=0.2)
        # A cancelled wait leaves the queue and holds nothing.
        waiting = asyncio.ensure_future(b.acquire())
        await asyncio.sleep(0.3)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await a.release()
        c = zk.Lock(root + "/l", "carol")
        assert await c.acquire(timeout=5), "bob's cancelled wait must not hold it"
        assert not b.is_acquired
        assert await c.release()

    run(main, member)


def test_semaphore_leases(member):
    async def main(root, *clients):
        sems = [c.Semaphore(root + "/sem", "s%d" % i, max_leases=2) for i, c in enumerate(clients)]
        assert await sems[0].acquire() and await sems[1].acquire()
        assert not await sems[2].acquire(blocking=False)
        with pytest.raises(zkrs.LockTimeout):
            await sems[2].acquire(timeout=0.3)
        third = asyncio.ensure_future(sems[2].acquire())
        await asyncio.sleep(0.2)
        assert not third.done()
        await sems[0].release()
        assert await asyncio.wait_for(third, 5)
        with pytest.raises(ValueError):  # kazoo's check: one max_leases per path
            await clients[0].Semaphore(root + "/sem", max_leases=3).acquire(blocking=False)
        async with clients[0].Semaphore(root + "/one") as held:
            assert held.is_acquired

    run(main, member)


def test_election_runs_one_leader_at_a_time(member):
    async def main(root, *clients):
        running, ran = [], []

        async def lead(i):
            assert not running, "two leaders"
            running.append(i)
            await asyncio.sleep(0.05)
            running.remove(i)
            ran.append(i)
            return i * 10

        results = await asyncio.gather(
            *(c.Election(root + "/e", "c%d" % i).run(lead, i) for i, c in enumerate(clients))
        )
        assert sorted(ran) == [0, 1, 2]
        assert sorted(results) == [0, 10, 20]

    run(main, member)


def test_counter(member):
    async def main(root, zk, other, _):
        c = zk.Counter(root + "/count", default=5)
        assert await c.value() == 5
        assert await c.add(3) == 8
        assert (c.pre_value, c.post_value) == (5, 8)
        assert await c.subtract(1) == 7
        mine, theirs = other.Counter(root + "/count"), zk.Counter(root + "/count")
        await asyncio.gather(*(x.add(1) for x in [mine, theirs] * 5))
        assert await c.value() == 17
        assert (await zk.get(root + "/count"))[0] == b"17"  # kazoo's text

    run(main, member)


def test_barriers(member):
    async def main(root, *clients):
        b = clients[0].Barrier(root + "/gate")
        await b.create()
        assert not await clients[1].Barrier(root + "/gate").wait(timeout=0.2)
        waiting = asyncio.ensure_future(clients[1].Barrier(root + "/gate").wait(timeout=10))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert await b.remove()
        assert await waiting
        entered = []

        async def member_(i, c):
            db = c.DoubleBarrier(root + "/db", 3, "m%d" % i)
            assert await db.enter(timeout=10)
            entered.append(i)
            assert await db.leave(timeout=10)

        await asyncio.gather(*(member_(i, c) for i, c in enumerate(clients)))
        assert sorted(entered) == [0, 1, 2]

    run(main, member)


def test_queue_priority_and_fifo(member):
    async def main(root, zk, *_):
        q = zk.Queue(root + "/q")
        assert await q.get() is None
        for item in [b"a", b"b", b"c"]:
            await q.put(item)
        await q.put(b"first", priority=1)
        assert await q.length() == 4
        assert [await q.get() for _ in range(5)] == [b"first", b"a", b"b", b"c", None]

    run(main, member)


async def until(cond, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_locking_queue_locks_consumes_and_gives_back(member):
    async def main(root, zk, other, _):
        q = zk.LockingQueue(root + "/lq")
        q2 = other.LockingQueue(root + "/lq")
        assert await q.length() == 0
        assert await q.get(0.1) is None  # empty: None after the timeout
        with pytest.raises(TypeError):
            await q.put("not bytes")
        await q.put(b"one")
        await q.put_all([b"two", b"three"])
        await q.put(b"urgent", priority=1)
        assert await q.length() == 4
        assert await q.get() == b"urgent"
        assert await q.holds_lock()
        assert await q.consume()
        assert not await q.holds_lock()
        assert await q.get() == b"one"
        assert await q2.get(1) == b"two"  # "one" is locked by the other session
        assert await q.release()  # "one" is offered again
        assert await q2.consume()
        assert await q2.get(1) == b"one"
        assert await q2.consume()
        assert await q.get(1) == b"three"
        assert await q.consume()
        waiting = asyncio.ensure_future(q2.get(10))  # woken by the next put
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await q.put(b"late")
        assert await waiting == b"late"
        assert await q2.consume()
        assert await q.length() == 0

    run(main, member)


def test_leases_hold_until_they_run_out(member):
    async def main(root, a, b, c):
        clock = [datetime.datetime(2026, 1, 1)]
        span = datetime.timedelta(seconds=3)

        def now():
            return clock[0]

        assert await a.NonBlockingLease(root + "/lease", span, "a", utcnow=now)
        assert await a.NonBlockingLease(root + "/lease", span, "a", utcnow=now)  # renewed
        assert not await b.NonBlockingLease(root + "/lease", span, "b", utcnow=now)
        clock[0] += span + datetime.timedelta(seconds=1)
        assert await b.NonBlockingLease(root + "/lease", span, "b", utcnow=now)
        assert not await a.NonBlockingLease(root + "/lease", span, "a", utcnow=now)
        assert await a.MultiNonBlockingLease(2, root + "/multi", span, "a", utcnow=now)
        assert await b.MultiNonBlockingLease(2, root + "/multi", span, "b", utcnow=now)
        assert not await c.MultiNonBlockingLease(2, root + "/multi", span, "c", utcnow=now)

    run(main, member)


def test_set_partitioner_splits_between_two(member):
    async def main(root, zk, other, _):
        path = root + "/part"
        p = await zk.SetPartitioner(path, set=(1, 2, 3), identifier="0", time_boundary=0.2)
        await p.wait_for_acquire(14)
        assert p.acquired and list(p) == [1, 2, 3]
        q = await other.SetPartitioner(path, set=(1, 2, 3), identifier="1", time_boundary=0.2)
        await until(lambda: p.release)  # the party changed
        await p.release_set()
        await asyncio.gather(p.wait_for_acquire(14), q.wait_for_acquire(14))
        assert p.acquired and q.acquired
        mine, theirs = list(p), list(q)
        assert sorted(mine + theirs) == [1, 2, 3] and not set(mine) & set(theirs)
        await q.finish()
        await until(lambda: p.release)
        await p.release_set()
        await p.wait_for_acquire(14)
        assert list(p) == [1, 2, 3]
        await p.finish()
        assert p.failed

    run(main, member)


def test_data_watch_runs_its_function_on_the_loop(member):
    async def main(root, zk, *_):
        path = root + "/d"
        loop = asyncio.get_running_loop()
        seen = []

        async def on_data(data, stat):  # a coroutine function, awaited in order
            assert asyncio.get_running_loop() is loop
            await asyncio.sleep(0.01)
            seen.append(data)

        await zk.DataWatch(path, on_data)
        assert seen == [None]  # called once before the await returns
        await zk.create(path, b"1")
        await until(lambda: seen[-1] == b"1")
        for i in range(2, 6):
            await zk.set(path, str(i).encode())
        await until(lambda: seen[-1] == b"5")
        values = [int(v) for v in seen[1:]]
        assert values == sorted(set(values))  # in order, each once

        events = []

        def with_event(data, stat, event):  # three parameters: gets the event
            events.append(event)
            return False if data == b"stop" else None

        await zk.DataWatch(path, with_event)
        assert events == [None]
        await zk.set(path, b"stop")
        await until(lambda: len(events) == 2)
        assert events[1].type == "CHANGED"
        await zk.set(path, b"after")
        await asyncio.sleep(0.3)
        assert len(events) == 2  # returning False stopped it

    run(main, member)


def test_children_watch_as_a_decorator_and_on_a_missing_node(member):
    async def main(root, zk, *_):
        seen = []

        @zk.ChildrenWatch(root)
        def kids(children):
            seen.append(sorted(children))

        await until(lambda: seen)
        assert seen == [[]]
        await zk.create(root + "/c1")
        await zk.create(root + "/c2")
        await until(lambda: seen[-1] == ["c1", "c2"])
        missing = []
        watch = zk.ChildrenWatch(root + "/none", missing.append)
        await watch
        assert missing == []  # a missing node ends the watch without a call

    run(main, member)


def test_service_registry_watch_on_the_loop(member):
    async def main(root, zk, other, _):
        reg = zk.ServiceRegistry(root + "/svc")
        theirs = other.ServiceRegistry(root + "/svc")
        seen = []

        async def on_change(instances):
            seen.append(instances)

        watch = await theirs.watch("api", on_change)
        assert seen == [[]]
        await reg.register("api", "a1", b"host:1")
        await until(lambda: seen[-1] == [("a1", b"host:1")])
        assert await theirs.instances("api") == [("a1", b"host:1")]
        assert await reg.unregister("api", "a1")
        await until(lambda: seen[-1] == [])
        watch.stop()

    run(main, member)


def test_party_membership(member):
    async def main(root, zk, other, _):
        p = zk.Party(root + "/party", "zero")
        q = other.Party(root + "/party", "one")
        await asyncio.gather(p.join(), q.join())
        assert sorted(await p.members()) == ["one", "zero"]
        assert q.participating
        assert await q.leave()
        assert await p.members() == ["zero"]

    run(main, member)


def test_a_stopped_client_fails_its_calls(member):
    async def main():
        c = zkrs.aio.Client(member.connect_string)
        with pytest.raises(zkrs.ConnectionClosedError):
            await c.get("/")

    asyncio.run(main())
