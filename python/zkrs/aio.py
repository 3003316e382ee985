"""asyncio API: ``zkrs.aio.Client`` has ``zkrs.Client``'s methods as
coroutines, ``Lock``/``ReadLock``/``WriteLock``/``Semaphore`` with
``async with``, and ``Election``, ``Counter``, ``Barrier``,
``DoubleBarrier``, ``Queue``, ``LockingQueue``, ``Party`` and
``SetPartitioner`` whose calls are coroutines; ``NonBlockingLease`` and
``MultiNonBlockingLease`` are coroutines that return the lease;
``DataWatch`` and ``ChildrenWatch`` run their function on the event loop
(a plain or a coroutine function; returning False stops the watch).

Each call starts the core's call on zkrs's runtime and awaits an asyncio
future that the call's completion settles from zkrs's thread
(``loop.call_soon_threadsafe``): no thread waits for a call, and the event
loop never blocks. Watch and listener callbacks run on zkrs's event
thread, as with ``zkrs.Client``; hand work to the loop with
``loop.call_soon_threadsafe``.

Cancelling a coroutine cancels the wait for its answer; a request already
sent may still take effect (as with any ZooKeeper client). A cancelled
``Lock.acquire``/``Semaphore.acquire`` also cancels the core's acquire and
gives back what it obtained meanwhile.

    async with zkrs.aio.Client("127.0.0.1:2181") as zk:
        await zk.ensure_path("/app")
        async with zk.Lock("/app/lock", "worker-1"):
            data, stat = await zk.get("/app")
"""

import asyncio
import collections
import inspect
from types import TracebackType
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type

import zkrs
from zkrs._types import ACL, ZnodeStat
from zkrs.handler import ThreadingHandler

__all__ = [
    "AsyncioHandler",
    "Barrier",
    "ChildrenWatch",
    "Client",
    "Counter",
    "DataWatch",
    "DoubleBarrier",
    "Election",
    "Lock",
    "LockingQueue",
    "Party",
    "Queue",
    "Semaphore",
    "ServiceRegistry",
    "SetPartitioner",
]


def _settle(future: "asyncio.Future[Any]", value: Any, error: Optional[BaseException]) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class _LoopResult:
    """The handler's async result for asyncio: zkrs sets it from its own
    thread; the loop's future gets the outcome. An outcome that arrives
    after the future was cancelled goes to ``late`` if one is set."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.future: "asyncio.Future[Any]" = loop.create_future()
        self.late: Optional[Callable[[Any], None]] = None

    def set(self, value: Any = None) -> None:
        self._deliver(value, None)

    def set_exception(self, error: BaseException) -> None:
        self._deliver(None, error)

    def _deliver(self, value: Any, error: Optional[BaseException]) -> None:
        def land() -> None:
            if self.future.cancelled():
                if self.late is not None and error is None:
                    self.late(value)
                return
            _settle(self.future, value, error)

        try:
            self._loop.call_soon_threadsafe(land)
        except RuntimeError:
            pass  # the loop is closed: nobody waits any more

    def __await__(self) -> Any:
        return self.future.__await__()


class AsyncioHandler(ThreadingHandler):
    """``ThreadingHandler`` whose async results are futures of the running
    event loop: ``await client.get_async(path)`` works in a coroutine."""

    name = "zkrs_asyncio_handler"

    def async_result(self) -> Any:
        return _LoopResult(asyncio.get_running_loop())


class Client:
    """``zkrs.Client``'s API as coroutines; the same constructor options."""

    def __init__(self, hosts: str = "127.0.0.1:2181", timeout: float = 10.0, **options: Any) -> None:
        options.setdefault("handler", AsyncioHandler())
        self.sync = zkrs.Client(hosts, timeout=timeout, **options)

    # Session.

    async def start(self, timeout: float = 15.0) -> None:
        await self.sync.start_async(timeout)

    async def stop(self) -> None:
        await self.sync.stop_async()

    async def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> "Client":
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.stop()
        await self.close()

    @property
    def state(self) -> str:
        return self.sync.state

    @property
    def connected(self) -> bool:
        return self.sync.connected

    @property
    def client_id(self) -> Optional[Tuple[int, bytes]]:
        return self.sync.client_id

    @property
    def chroot(self) -> str:
        return self.sync.chroot

    def add_listener(self, listener: Callable[[str], Any]) -> None:
        self.sync.add_listener(listener)

    def remove_listener(self, listener: Callable[[str], Any]) -> None:
        self.sync.remove_listener(listener)

    # Calls.

    async def create(self, path: str, value: Optional[bytes] = b"", **options: Any) -> Any:
        return await self.sync.create_async(path, value, **options)

    async def ensure_path(self, path: str, acl: Optional[Sequence[ACL]] = None) -> bool:
        return bool(await self.sync.ensure_path_async(path, acl))

    async def exists(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Optional[ZnodeStat]:
        stat: Optional[ZnodeStat] = await self.sync.exists_async(path, watch)
        return stat

    async def get(
        self, path: str, watch: Optional[Callable[..., Any]] = None
    ) -> Tuple[Optional[bytes], ZnodeStat]:
        got: Tuple[Optional[bytes], ZnodeStat] = await self.sync.get_async(path, watch)
        return got

    async def get_children(
        self, path: str, watch: Optional[Callable[..., Any]] = None, include_data: bool = False
    ) -> Any:
        return await self.sync.get_children_async(path, watch, include_data)

    async def set(self, path: str, value: Optional[bytes], version: int = -1) -> ZnodeStat:
        stat: ZnodeStat = await self.sync.set_async(path, value, version)
        return stat

    async def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        return bool(await self.sync.delete_async(path, version, recursive))

    async def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        got: Tuple[List[ACL], ZnodeStat] = await self.sync.get_acls_async(path)
        return got

    async def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        stat: ZnodeStat = await self.sync.set_acls_async(path, acls, version)
        return stat

    async def sync_path(self, path: str) -> str:
        """ZooKeeper's ``sync`` (``Client.sync`` is the blocking client)."""
        return str(await self.sync.sync_async(path))

    async def add_auth(self, scheme: str, credential: Any) -> bool:
        return bool(await self.sync.add_auth_async(scheme, credential))

    async def add_watch(self, path: str, callback: Callable[..., Any], recursive: bool = False) -> None:
        await self.sync.add_watch_async(path, callback, recursive)

    def transaction(self) -> "Transaction":
        return Transaction(self.sync.transaction())

    # Recipes with waits that are coroutines.

    def Lock(self, path: str, identifier: Optional[str] = None) -> "_Lock":
        return Lock(zkrs.Lock(self.sync, path, identifier))

    def WriteLock(self, path: str, identifier: Optional[str] = None) -> "_Lock":
        return Lock(zkrs.WriteLock(self.sync, path, identifier))

    def ReadLock(self, path: str, identifier: Optional[str] = None) -> "_Lock":
        return Lock(zkrs.ReadLock(self.sync, path, identifier))

    def Semaphore(
        self, path: str, identifier: Optional[str] = None, max_leases: int = 1
    ) -> "_Semaphore":
        return Semaphore(zkrs.Semaphore(self.sync, path, identifier, max_leases))

    def Election(self, path: str, identifier: Optional[str] = None) -> "_Election":
        return Election(Lock(zkrs.Lock(self.sync, path, identifier)))

    def Counter(self, path: str, default: Any = 0, support_curator: bool = False) -> "_Counter":
        return Counter(zkrs.Counter(self.sync, path, default, support_curator))

    def Barrier(self, path: str) -> "_Barrier":
        return Barrier(zkrs.Barrier(self.sync, path))

    def DoubleBarrier(self, path: str, num_clients: int, identifier: Optional[str] = None) -> "_DoubleBarrier":
        return DoubleBarrier(zkrs.DoubleBarrier(self.sync, path, num_clients, identifier))

    def Queue(self, path: str) -> "_Queue":
        return Queue(zkrs.Queue(self.sync, path))

    def Party(self, path: str, identifier: Optional[str] = None) -> "_Party":
        return Party(zkrs.Party(self.sync, path, identifier))

    def LockingQueue(self, path: str) -> "_LockingQueue":
        return LockingQueue(zkrs.LockingQueue(self.sync, path))

    async def NonBlockingLease(
        self, path: str, duration: Any, identifier: Optional[str] = None, utcnow: Optional[Callable[[], Any]] = None
    ) -> "zkrs.NonBlockingLease":
        """kazoo's one attempt at the lease; the lease is true if obtained."""
        lease: zkrs.NonBlockingLease = await zkrs.NonBlockingLease.obtain_async(
            self.sync, path, duration, identifier, utcnow
        )
        return lease

    async def MultiNonBlockingLease(
        self,
        count: int,
        path: str,
        duration: Any,
        identifier: Optional[str] = None,
        utcnow: Optional[Callable[[], Any]] = None,
    ) -> "zkrs.MultiNonBlockingLease":
        lease: zkrs.MultiNonBlockingLease = await zkrs.MultiNonBlockingLease.obtain_async(
            self.sync, count, path, duration, identifier, utcnow
        )
        return lease

    async def SetPartitioner(
        self,
        path: str,
        set: Any,
        partition_func: Optional[Callable[..., Any]] = None,
        identifier: Optional[str] = None,
        time_boundary: float = 30.0,
        max_reaction_time: float = 1.0,
        state_change_event: Optional[Any] = None,
    ) -> "_SetPartitioner":
        """Joins the partition party; ``await p.wait_for_acquire()`` etc."""
        p = await zkrs.SetPartitioner.create_async(
            self.sync, path, set, partition_func, identifier, time_boundary, max_reaction_time, state_change_event
        )
        return SetPartitioner(p)

    def ServiceRegistry(self, root: str = "/services") -> "_ServiceRegistry":
        return ServiceRegistry(zkrs.ServiceRegistry(self.sync, root))

    def DataWatch(self, path: str, func: Optional[Callable[..., Any]] = None) -> "_DataWatch":
        return DataWatch(self, path, func)

    def ChildrenWatch(
        self,
        path: str,
        func: Optional[Callable[..., Any]] = None,
        allow_session_lost: bool = True,
        send_event: bool = False,
    ) -> "_ChildrenWatch":
        return ChildrenWatch(self, path, func, allow_session_lost, send_event)


class Transaction:
    """``zkrs.TransactionRequest`` with ``await commit()``."""

    def __init__(self, request: "zkrs.TransactionRequest") -> None:
        self.request = request

    def create(self, path: str, value: bytes = b"", **options: Any) -> None:
        self.request.create(path, value, **options)

    def delete(self, path: str, version: int = -1) -> None:
        self.request.delete(path, version)

    def set_data(self, path: str, value: bytes, version: int = -1) -> None:
        self.request.set_data(path, value, version)

    def check(self, path: str, version: int) -> None:
        self.request.check(path, version)

    async def commit(self) -> List[Any]:
        results: List[Any] = await self.request.commit_async()
        return results


async def _acquire(recipe: Any, result: _LoopResult) -> bool:
    """Awaits an acquire; if the waiting task is cancelled, the core's
    acquire is cancelled too and what it got meanwhile goes back."""
    result.late = lambda got: got and recipe.release_async()
    try:
        return bool(await result)
    except asyncio.CancelledError:
        recipe.cancel()
        raise


class _Held:
    """What Lock and Semaphore share: ``release``, ``cancel``,
    ``is_acquired`` and ``async with``."""

    def __init__(self, recipe: Any) -> None:
        self.sync = recipe

    async def acquire(self) -> bool:
        raise NotImplementedError

    async def release(self) -> bool:
        return bool(await self.sync.release_async())

    def cancel(self) -> None:
        self.sync.cancel()

    @property
    def is_acquired(self) -> bool:
        return bool(self.sync.is_acquired)

    async def __aenter__(self) -> Any:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.release()


class Lock(_Held):
    """``zkrs.Lock`` with coroutine ``acquire``/``release`` and ``async with``."""

    async def acquire(self, blocking: bool = True, timeout: Optional[float] = None, ephemeral: bool = True) -> bool:
        return await _acquire(self.sync, self.sync.acquire_async(blocking, timeout, ephemeral))


class Semaphore(_Held):
    """``zkrs.Semaphore`` with coroutine ``acquire``/``release`` and ``async with``."""

    async def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        return await _acquire(self.sync, self.sync.acquire_async(blocking, timeout))


class Election:
    """``zkrs.Election``: ``await run(func, *args)`` waits to lead, runs
    ``func`` (awaited if it is a coroutine function) and steps down."""

    def __init__(self, lock: Lock) -> None:
        self.lock = lock

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not callable(func):
            raise ValueError("func must be callable")
        try:
            await self.lock.acquire()
        except zkrs.CancelledError:
            return None  # kazoo: a cancelled candidate's run returns None
        try:
            out = func(*args, **kwargs)
            if asyncio.iscoroutine(out):
                out = await out
            return out
        finally:
            await self.lock.release()

    def cancel(self) -> None:
        self.lock.cancel()


class Counter:
    """``zkrs.Counter``: ``await add(n)`` (the new value), ``await value()``."""

    def __init__(self, counter: "zkrs.Counter") -> None:
        self.sync = counter
        self.pre_value: Any = None
        self.post_value: Any = None

    async def value(self) -> Any:
        return await self.sync.value_async()

    async def add(self, delta: Any) -> Any:
        self.pre_value, self.post_value = await self.sync.add_async(delta)
        return self.post_value

    async def subtract(self, delta: Any) -> Any:
        return await self.add(-delta)


class Barrier:
    """``zkrs.Barrier`` with coroutine ``create``/``remove``/``wait``."""

    def __init__(self, barrier: "zkrs.Barrier") -> None:
        self.sync = barrier

    async def create(self) -> None:
        await self.sync.create_async()

    async def remove(self) -> bool:
        return bool(await self.sync.remove_async())

    async def wait(self, timeout: Optional[float] = None) -> bool:
        return bool(await self.sync.wait_async(timeout))


class DoubleBarrier:
    """``zkrs.DoubleBarrier`` with coroutine ``enter``/``leave``."""

    def __init__(self, barrier: "zkrs.DoubleBarrier") -> None:
        self.sync = barrier

    async def enter(self, timeout: Optional[float] = None) -> bool:
        return bool(await self.sync.enter_async(timeout))

    async def leave(self, timeout: Optional[float] = None) -> bool:
        return bool(await self.sync.leave_async(timeout))

    @property
    def participating(self) -> bool:
        return bool(self.sync.participating)


class Queue:
    """``zkrs.Queue`` with coroutine ``put``/``get``/``length``."""

    def __init__(self, queue: "zkrs.Queue") -> None:
        self.sync = queue

    async def put(self, value: bytes, priority: int = 100) -> None:
        await self.sync.put_async(value, priority)

    async def get(self) -> Optional[bytes]:
        item: Optional[bytes] = await self.sync.get_async()
        return item

    async def length(self) -> int:
        return int(await self.sync.len_async())


class Party:
    """``zkrs.Party`` with coroutine ``join``/``leave``/``members``."""

    def __init__(self, party: "zkrs.Party") -> None:
        self.sync = party

    async def join(self) -> None:
        await self.sync.join_async()

    async def leave(self) -> bool:
        return bool(await self.sync.leave_async())

    async def members(self) -> List[str]:
        return list(await self.sync.members_async())

    @property
    def participating(self) -> bool:
        return bool(self.sync.participating)


class LockingQueue:
    """``zkrs.LockingQueue`` with coroutine calls: ``get`` locks an item,
    ``consume`` removes it, ``release`` gives it back."""

    def __init__(self, queue: "zkrs.LockingQueue") -> None:
        self.sync = queue

    async def put(self, value: bytes, priority: int = 100) -> None:
        await self.sync.put_async(value, priority)

    async def put_all(self, values: List[bytes], priority: int = 100) -> None:
        await self.sync.put_all_async(values, priority)

    async def get(self, timeout: Optional[float] = None) -> Optional[bytes]:
        item: Optional[bytes] = await self.sync.get_async(timeout)
        return item

    async def holds_lock(self) -> bool:
        return bool(await self.sync.holds_lock_async())

    async def consume(self) -> bool:
        return bool(await self.sync.consume_async())

    async def release(self) -> bool:
        return bool(await self.sync.release_async())

    async def length(self) -> int:
        return int(await self.sync.len_async())


class SetPartitioner:
    """``zkrs.SetPartitioner`` with coroutine ``wait_for_acquire``,
    ``release_set`` and ``finish``; its state properties and iteration as
    kazoo's."""

    def __init__(self, partitioner: "zkrs.SetPartitioner") -> None:
        self.sync = partitioner

    @property
    def state(self) -> str:
        return self.sync.state

    @property
    def failed(self) -> bool:
        return self.sync.failed

    @property
    def release(self) -> bool:
        return self.sync.release

    @property
    def allocating(self) -> bool:
        return self.sync.allocating

    @property
    def acquired(self) -> bool:
        return self.sync.acquired

    @property
    def state_change_event(self) -> Any:
        return self.sync.state_change_event

    def __iter__(self) -> Any:
        return iter(self.sync)

    async def wait_for_acquire(self, timeout: Optional[float] = 30.0) -> None:
        await self.sync.wait_for_acquire_async(timeout)

    async def release_set(self) -> None:
        await self.sync.release_set_async()

    async def finish(self) -> None:
        await self.sync.finish_async()


class _OnLoop:
    """Runs a watch's function on the event loop, one call after another
    in the order zkrs delivered them; a coroutine function is awaited
    before the next call. The first False stops the watch."""

    def __init__(self, watch: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._watch = watch
        self._func: Optional[Callable[..., Any]] = None
        self._calls: "collections.deque[Tuple[Any, ...]]" = collections.deque()
        self._runner: Optional["asyncio.Task[None]"] = None
        self._first: "asyncio.Future[None]" = self._loop.create_future()

    def begin(self, func: Callable[..., Any], relay: Callable[..., None]) -> None:
        if not callable(func):
            raise TypeError("func must be callable")
        self._func = func
        self._watch.begin(relay)

    def deliver(self, args: Tuple[Any, ...]) -> None:
        """From zkrs's thread: queue the call on the loop."""
        try:
            self._loop.call_soon_threadsafe(self._queue, args)
        except RuntimeError:
            self._watch.stop()  # the loop is closed: nobody listens any more

    def _queue(self, args: Tuple[Any, ...]) -> None:
        self._calls.append(args)
        if self._runner is None or self._runner.done():
            self._runner = self._loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self._calls:
            args = self._calls.popleft()
            try:
                assert self._func is not None
                out = self._func(*args)
                if inspect.isawaitable(out):
                    out = await out
            except Exception as e:  # noqa: BLE001 - reported, the watch goes on
                self._loop.call_exception_handler(
                    {"message": "zkrs.aio watch function failed", "exception": e}
                )
                out = None
            if not self._first.done():
                self._first.set_result(None)
            if out is False:
                self._calls.clear()
                self._watch.stop()

    async def started(self) -> None:
        """Until the first call ran, or the watch ended without one."""
        while not self._first.done() and not self._watch._stopped:
            await asyncio.wait([self._first], timeout=0.05)

    def stop(self) -> None:
        self._watch.stop()


class DataWatch:
    """kazoo's ``DataWatch`` on the event loop: ``func(data, stat)`` (or
    ``func(data, stat, event)``) now and after each change, run on the
    loop; ``func`` may be a coroutine function; returning False stops the
    watch. ``await`` the watch to wait for its first call; usable as a
    decorator (``@zk.DataWatch(path)``). Create it in a coroutine."""

    def __init__(self, client: Client, path: str, func: Optional[Callable[..., Any]] = None) -> None:
        self._on_loop = _OnLoop(zkrs.DataWatch(client.sync, path))
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        deliver = self._on_loop.deliver
        if _takes_event(func):

            def relay(data: Any, stat: Any, event: Any) -> None:
                deliver((data, stat, event))

        else:

            def relay(data: Any, stat: Any) -> None:  # type: ignore[misc]
                deliver((data, stat))

        self._on_loop.begin(func, relay)
        return func

    def __await__(self) -> Any:
        yield from self._on_loop.started().__await__()
        return self

    def stop(self) -> None:
        self._on_loop.stop()


class ChildrenWatch:
    """kazoo's ``ChildrenWatch`` on the event loop: ``func(children)`` (with
    ``send_event``, ``func(children, event)``) now and after each change;
    as ``DataWatch`` otherwise, and it ends when its node is missing or
    deleted."""

    def __init__(
        self,
        client: Client,
        path: str,
        func: Optional[Callable[..., Any]] = None,
        allow_session_lost: bool = True,
        send_event: bool = False,
    ) -> None:
        watch = zkrs.ChildrenWatch(client.sync, path, None, allow_session_lost, send_event)
        self._on_loop = _OnLoop(watch)
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        deliver = self._on_loop.deliver

        def relay(*args: Any) -> None:
            deliver(args)

        self._on_loop.begin(func, relay)
        return func

    def __await__(self) -> Any:
        yield from self._on_loop.started().__await__()
        return self

    def stop(self) -> None:
        self._on_loop.stop()


class ServiceRegistry:
    """``zkrs.ServiceRegistry`` with coroutine ``register``, ``unregister``
    and ``instances``; ``watch(service, func)`` runs ``func(instances)`` on
    the event loop (as ``DataWatch``), and ``await`` on the returned watch
    waits for its first call."""

    def __init__(self, registry: "zkrs.ServiceRegistry") -> None:
        self.sync = registry

    async def register(self, service: str, id: str, payload: bytes = b"") -> None:
        await self.sync.register_async(service, id, payload)

    async def unregister(self, service: str, id: str) -> bool:
        return bool(await self.sync.unregister_async(service, id))

    async def instances(self, service: str) -> List[Tuple[str, bytes]]:
        return list(await self.sync.instances_async(service))

    def watch(self, service: str, func: Callable[..., Any]) -> "_RegistryWatch":
        return _RegistryWatch(self.sync, service, func)


class _RegistryWatch:
    """A registry watch on the loop: what ``_OnLoop`` needs of a watch."""

    def __init__(self, registry: "zkrs.ServiceRegistry", service: str, func: Callable[..., Any]) -> None:
        self._registry, self._service = registry, service
        self._handle: Optional["zkrs.RegistryWatch"] = None
        self._on_loop = _OnLoop(self)
        deliver = self._on_loop.deliver

        def relay(instances: Any) -> None:
            deliver((instances,))

        self._on_loop.begin(func, relay)

    def begin(self, relay: Callable[..., Any]) -> None:
        self._handle = self._registry.watch(self._service, relay)

    @property
    def _stopped(self) -> bool:
        return self._handle is None or not self._handle.running

    def __await__(self) -> Any:
        yield from self._on_loop.started().__await__()
        return self

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.stop()


def _takes_event(func: Callable[..., Any]) -> bool:
    """kazoo passes the event to a DataWatch function of three parameters."""
    try:
        return len(inspect.signature(func).parameters) >= 3
    except (TypeError, ValueError):
        return False


# The factories on Client name these; inside Client's body the bare names
# are its methods.
_Lock = Lock
_Semaphore = Semaphore
_Election = Election
_Counter = Counter
_Barrier = Barrier
_DoubleBarrier = DoubleBarrier
_Queue = Queue
_Party = Party
_LockingQueue = LockingQueue
_SetPartitioner = SetPartitioner
_DataWatch = DataWatch
_ChildrenWatch = ChildrenWatch
_ServiceRegistry = ServiceRegistry
