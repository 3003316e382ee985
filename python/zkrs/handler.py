"""kazoo's handler interface for code written against ``client.handler``.

``zkrs.Client`` runs its I/O on its own Rust runtime, so a handler does
not drive connections here; it is the toolkit kazoo code takes from the
client: events, locks, queues, sleep, spawning a worker, async results.
``ThreadingHandler`` is kazoo's ``SequentialThreadingHandler`` in that
role; a kazoo handler passed as ``Client(handler=...)`` is used as is.
"""

import queue
import threading
import time
from typing import Any, Callable, List, Optional

__all__ = ["ThreadingHandler", "AsyncResult", "TimeoutError"]


class TimeoutError(Exception):
    """``AsyncResult.get`` ran out of time (kazoo's KazooTimeoutError)."""


class AsyncResult:
    """A value or exception to come (kazoo's ``IAsyncResult``)."""

    def __init__(self, handler: "ThreadingHandler") -> None:
        self._handler = handler
        self._cond = threading.Condition()
        self._done = False
        self.value: Any = None
        self._exception: Optional[BaseException] = None
        self._callbacks: List[Callable[["AsyncResult"], Any]] = []

    def ready(self) -> bool:
        return self._done

    def successful(self) -> bool:
        return self._done and self._exception is None

    @property
    def exception(self) -> Optional[BaseException]:
        return self._exception

    def set(self, value: Any = None) -> None:
        self._finish(value, None)

    def set_exception(self, exception: BaseException) -> None:
        self._finish(None, exception)

    def _finish(self, value: Any, exception: Optional[BaseException]) -> None:
        with self._cond:
            self.value, self._exception, self._done = value, exception, True
            self._cond.notify_all()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            self._dispatch(cb)

    def _dispatch(self, cb: Callable[["AsyncResult"], Any]) -> None:
        self._handler.dispatch_callback(lambda: cb(self))

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        with self._cond:
            if not self._done and block:
                self._cond.wait_for(lambda: self._done, timeout)
            if not self._done:
                raise self._handler.timeout_exception("timed out")
            if self._exception is not None:
                raise self._exception
            return self.value

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def wait(self, timeout: Optional[float] = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._done, timeout)

    def rawlink(self, callback: Callable[["AsyncResult"], Any]) -> None:
        with self._cond:
            if not self._done:
                self._callbacks.append(callback)
                return
        self._dispatch(callback)

    def unlink(self, callback: Callable[["AsyncResult"], Any]) -> None:
        with self._cond:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


class ThreadingHandler:
    """kazoo's ``SequentialThreadingHandler`` toolkit: callbacks run one at
    a time, in order, on one worker thread."""

    name = "zkrs_threading_handler"
    timeout_exception = TimeoutError
    sleep_func: Callable[[float], None] = staticmethod(time.sleep)
    queue_impl = queue.Queue
    queue_empty = queue.Empty

    def __init__(self) -> None:
        self.callback_queue: "queue.Queue[Optional[Callable[[], Any]]]" = queue.Queue()
        self._worker: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, daemon=True)
                self._worker.start()

    def stop(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self.callback_queue.put(None)
            if worker is not threading.current_thread():
                worker.join()

    def _run(self) -> None:
        while True:
            func = self.callback_queue.get()
            if func is None:
                return
            try:
                func()
            except Exception:  # a callback's error must not end the worker
                import logging

                logging.getLogger("zkrs").exception("handler callback failed")

    def event_object(self) -> threading.Event:
        return threading.Event()

    def lock_object(self) -> Any:
        return threading.Lock()

    def rlock_object(self) -> Any:
        return threading.RLock()

    def async_result(self) -> AsyncResult:
        return AsyncResult(self)

    def spawn(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        t = threading.Thread(target=func, args=args, kwargs=kwargs, daemon=True)
        t.start()
        return t

    def dispatch_callback(self, callback: Any) -> None:
        """Runs `callback()` on the worker; kazoo's Callback tuples
        (`.func`, `.args`) are taken too."""
        if not callable(callback):
            func, args = callback.func, callback.args
            callback = lambda: func(*args)  # noqa: E731
        self.start()
        self.callback_queue.put(callback)
