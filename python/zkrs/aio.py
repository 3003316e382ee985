"""asyncio API: ``zkrs.aio.Client`` has ``zkrs.Client``'s methods as
coroutines, ``Lock``/``ReadLock``/``WriteLock``/``Semaphore`` with
``async with``, and ``Election``, ``Counter``, ``Barrier``,
``DoubleBarrier``, ``Queue`` and ``Party`` whose calls are coroutines.

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
from types import TracebackType
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type

import zkrs
from zkrs._types import ACL, ZnodeStat
from zkrs.handler import ThreadingHandler

__all__ = [
    "AsyncioHandler",
    "Barrier",
    "Client",
    "Counter",
    "DoubleBarrier",
    "Election",
    "Lock",
    "Party",
    "Queue",
    "Semaphore",
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

    async def create(self, path: str, value: bytes = b"", **options: Any) -> Any:
        return await self.sync.create_async(path, value, **options)

    async def ensure_path(self, path: str, acl: Optional[Sequence[ACL]] = None) -> bool:
        return bool(await self.sync.ensure_path_async(path, acl))

    async def exists(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Optional[ZnodeStat]:
        stat: Optional[ZnodeStat] = await self.sync.exists_async(path, watch)
        return stat

    async def get(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Tuple[bytes, ZnodeStat]:
        got: Tuple[bytes, ZnodeStat] = await self.sync.get_async(path, watch)
        return got

    async def get_children(
        self, path: str, watch: Optional[Callable[..., Any]] = None, include_data: bool = False
    ) -> Any:
        return await self.sync.get_children_async(path, watch, include_data)

    async def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
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
