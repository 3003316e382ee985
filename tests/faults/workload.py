"""The fault suite's clients: kazoo sessions that each run a bounded loop of
register reads/writes/CAS, sequential creates, counter increments and queue
operations, recording every operation in a history (see linearizability.py
for the format).

Outcomes: ok, fail (a definite error: BadVersion, NoNode, NodeExists) or
info (unknown: ConnectionLoss, OperationTimeout, SessionExpired, the
client's own timeout, anything unexpected)."""

import random
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
)
from kazoo.protocol.states import KazooState

ROOT = "/faults"
REG = ROOT + "/reg"
SEQ = ROOT + "/seq"
QUEUE = ROOT + "/queue"
COUNTER = ROOT + "/counter"
INIT_VALUE = "init"

DEFINITE = {BadVersionError: "BadVersion", NoNodeError: "NoNode", NodeExistsError: "NodeExists"}

# op mix: (f, weight)
MIX = [("read", 18), ("write", 14), ("cas", 16), ("get", 8), ("create_seq", 14),
       ("incr", 10), ("enqueue", 10), ("dequeue", 10)]

WRITE_FS = ("write", "cas", "create_seq", "incr", "enqueue", "dequeue")


def acked_write(op):
    """An acknowledged write (a dequeue that found the queue empty is not)."""
    return (op["type"] == "ok" and op["f"] in WRITE_FS
            and not (op["f"] == "dequeue" and op.get("rvalue") is None))


def new_client(hosts, session_timeout):
    return KazooClient(
        hosts=hosts, timeout=session_timeout,
        connection_retry=dict(max_tries=-1, delay=0.05, backoff=1.5, max_jitter=0.3, max_delay=0.5),
        command_retry=dict(max_tries=0))


class Outcome(Exception):
    pass


class Client(threading.Thread):
    """One kazoo session (a new one after each expiry) running the workload.

    run.keys (a list of register paths) is read before each register op, so
    the nemesis can move the clients to fresh keys every round."""

    def __init__(self, pid, hosts, run, session_timeout, op_timeout, max_ops, deadline, seed,
                 pause=0.0):
        super().__init__(daemon=True, name="fault-client-%d" % pid)
        self.pid = pid
        self.hosts = hosts
        self.run_ = run
        self.session_timeout = session_timeout
        self.op_timeout = op_timeout
        self.max_ops = max_ops
        self.deadline = deadline
        self.rnd = random.Random(seed)
        self.pause = pause
        self.stop_ev = threading.Event()
        self.history = []          # ops (dicts), appended in order of completion
        self.events = []           # (time, KazooState / "new-session" / "restart")
        self.expired = []          # times of LOST while we kept going
        self.last_write_invoke = -1.0  # invoke time of the latest acked write
        self.n = 0
        self.stopping = False
        self.zk = None
        self.fs = [f for f, _ in MIX]
        self.ws = [w for _, w in MIX]

    # ---- session ----------------------------------------------------------

    def _listener(self, state):
        now = time.monotonic()
        self.events.append((now, str(state)))
        if state == KazooState.LOST and not self.stopping:
            self.expired.append(now)

    def connect(self):
        self.zk = new_client(self.hosts, self.session_timeout)
        self.zk.add_listener(self._listener)
        self.zk.start(timeout=max(15.0, 3 * self.session_timeout))

    def session(self):
        cid = self.zk.client_id if self.zk else None
        return "%x" % cid[0] if cid and cid[0] else None

    # ---- ops --------------------------------------------------------------

    def _wait(self, a):
        return a.get(timeout=self.op_timeout)

    def _record(self, op, fn):
        op["process"] = self.pid
        op["session"] = self.session()
        op["invoke"] = time.monotonic()
        try:
            fn(op)
            op["type"] = "ok"
        except tuple(DEFINITE) as e:
            op["type"] = "fail"
            op["error"] = DEFINITE[type(e)]
        except Exception as e:  # noqa: BLE001 - anything else: unknown outcome
            op["type"] = "info"
            op["error"] = type(e).__name__
        op["complete"] = time.monotonic()
        if op["type"] == "ok":
            if self.session() == op["session"]:
                op["rzxid"] = self.zk.last_zxid
            if acked_write(op):
                self.last_write_invoke = max(self.last_write_invoke, op["invoke"])
        self.history.append(op)
        return op

    def _stat(self, op, stat):
        op["rversion"] = stat.version
        op["rmzxid"] = stat.mzxid

    def op_read(self, key):
        def fn(op):
            self._wait(self.zk.sync_async(key))
            data, stat = self._wait(self.zk.get_async(key))
            op["rvalue"] = data.decode()
            self._stat(op, stat)
        return self._record({"f": "read", "key": key}, fn)

    def op_get(self, key):
        def fn(op):
            data, stat = self._wait(self.zk.get_async(key))
            op["rvalue"] = data.decode()
            self._stat(op, stat)
        return self._record({"f": "get", "key": key}, fn)

    def op_write(self, key, value):
        def fn(op):
            self._stat(op, self._wait(self.zk.set_async(key, value.encode())))
        return self._record({"f": "write", "key": key, "value": value}, fn)

    def op_cas(self, key, value, expect, f="cas"):
        def fn(op):
            self._stat(op, self._wait(self.zk.set_async(key, value.encode(), version=expect)))
        return self._record({"f": f, "key": key, "value": value, "expect": expect}, fn)

    def op_create_seq(self, value):
        def fn(op):
            path = self._wait(self.zk.create_async(SEQ + "/c%d-" % self.pid, value.encode(),
                                                   sequence=True))
            op["rvalue"] = path.rsplit("/", 1)[1]
        return self._record({"f": "create_seq", "value": value}, fn)

    def op_enqueue(self, value):
        def fn(op):
            self._wait(self.zk.create_async(QUEUE + "/q-", value.encode(), sequence=True))
        return self._record({"f": "enqueue", "value": value}, fn)

    def op_dequeue(self):
        """Take the lowest item: get_children, get, delete (NoNode: next)."""
        def fn(op):
            kids = sorted(self._wait(self.zk.get_children_async(QUEUE)))
            op["rvalue"] = None
            for k in kids[:4]:
                try:
                    data, _ = self._wait(self.zk.get_async(QUEUE + "/" + k))
                except NoNodeError:
                    continue
                op["rvalue"] = data.decode()  # kept when the delete's outcome is unknown
                op["item"] = k
                try:
                    self._wait(self.zk.delete_async(QUEUE + "/" + k))
                    return
                except NoNodeError:
                    op["rvalue"] = None
                    continue
        return self._record({"f": "dequeue"}, fn)

    def op_incr(self):
        """counter += 1 by CAS: get, then set with the version read."""
        for _ in range(3):
            g = self.op_get(COUNTER)
            if g["type"] != "ok":
                return g
            op = self.op_cas(COUNTER, str(int(g["rvalue"]) + 1), g["rversion"], f="incr")
            if op["type"] != "fail":
                return op
        return op

    # ---- loop -------------------------------------------------------------

    def one(self):
        f = self.rnd.choices(self.fs, self.ws)[0]
        keys = self.run_.keys
        key = self.rnd.choice(keys)
        value = "p%d-%d" % (self.pid, self.n)
        self.n += 1
        if f == "read":
            self.op_read(key)
        elif f == "get":
            self.op_get(key)
        elif f == "write":
            self.op_write(key, value)
        elif f == "cas":
            g = self.op_get(key)
            if g["type"] == "ok":
                # mostly the version just read; sometimes a stale one
                expect = g["rversion"] - (1 if self.rnd.random() < 0.1 and g["rversion"] > 0 else 0)
                self.op_cas(key, value, expect)
        elif f == "create_seq":
            self.op_create_seq(value)
        elif f == "incr":
            self.op_incr()
        elif f == "enqueue":
            self.op_enqueue(value)
        else:
            self.op_dequeue()

    def run(self):
        try:
            self.connect()
        except Exception as e:  # noqa: BLE001
            self.events.append((time.monotonic(), "connect failed: %r" % e))
            return
        ops = 0
        while not self.stop_ev.is_set() and ops < self.max_ops and time.monotonic() < self.deadline:
            try:
                self.one()
            except Exception as e:  # noqa: BLE001 - a bug here must not kill the client silently
                self.events.append((time.monotonic(), "workload error: %r" % e))
                self.stop_ev.wait(0.05)
            ops += 1
            if self.history and self.history[-1]["type"] == "info":
                self.stop_ev.wait(0.02)  # do not spin while the ensemble is down
            if self.pause:
                self.stop_ev.wait(self.pause)

    def stop(self, timeout):
        self.stopping = True
        self.stop_ev.set()
        self.join(timeout)

    def close(self):
        self.stopping = True
        if self.zk is not None:
            try:
                self.zk.stop()
                self.zk.close()
            except Exception:  # noqa: BLE001
                pass
