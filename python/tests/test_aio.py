"""zkrs.aio: the client's calls and the lock/semaphore recipe tests of
test_recipes.py, as coroutines on one event loop (many sessions in one
thread: a blocked loop would fail them)."""

import asyncio
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
