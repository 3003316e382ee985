"""Small helpers shared by the tests."""

import queue
import time


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until truthy (returns its value); AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Events:
    """A watch callback that records events; get() waits a bounded time."""

    def __init__(self):
        self.q = queue.Queue()

    def __call__(self, event):
        self.q.put(event)

    def get(self, timeout=5.0):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no watch event within %.1fs" % timeout)

    def none_within(self, timeout=0.5):
        """Assert that no event arrives within `timeout`."""
        try:
            ev = self.q.get(timeout=timeout)
        except queue.Empty:
            return
        raise AssertionError("unexpected watch event %r" % (ev,))

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out
