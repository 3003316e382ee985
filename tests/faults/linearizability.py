"""Checkers for the fault suite's histories. Pure Python, no I/O.

A history is a list of operations (dicts):

    process   client id (int)
    session   session id of the client when the op was invoked (or None)
    f         'read' | 'write' | 'cas' | 'get' | 'create_seq' | 'incr' |
              'enqueue' | 'dequeue'
    key       register path (read/write/cas/get)
    value     value written (write/cas/create_seq/enqueue/incr: new value)
    expect    expected version (cas, incr)
    type      'ok' | 'fail' (definite error, no effect) | 'info' (unknown
              outcome: it may or may not have taken effect)
    rvalue, rversion, rzxid   what an ok op returned (read value, version of
              the node after a write, mzxid, client's last zxid)
    invoke, complete   times (complete is None / ignored for 'info' ops:
              their completion time is infinity)

check_register(): Wing & Gong's linearizability search with Lowe's
just-in-time linearization and memoization (the algorithm of Knossos'
`linear` checker and porcupine), for a ZooKeeper register: state =
(value, version), read returns both, write bumps the version, cas is a
set with an expected version (BadVersion when it differs).

The other checks: per-session monotonic reads, sequential creates and the
queue (nothing lost, nothing duplicated) and the CAS counter bounds.
"""

import math
from collections import defaultdict

INF = math.inf
REGISTER_FS = ("read", "write", "cas")


# ---- register model ---------------------------------------------------------

def step(state, op):
    """(legal, new_state) for applying op to a register state (value, version)."""
    val, ver = state
    f, t = op["f"], op["type"]
    if f == "read":
        if t != "ok":
            return True, state
        if op.get("rvalue") != val:
            return False, state
        rv = op.get("rversion")
        return (rv is None or rv == ver), state
    if f == "write":
        if t == "fail":
            return True, state
        rv = op.get("rversion") if t == "ok" else None
        if rv is not None and rv != ver + 1:
            return False, state
        return True, (op["value"], ver + 1)
    if f == "cas":
        match = op["expect"] == ver
        if t == "ok":
            rv = op.get("rversion")
            if not match or (rv is not None and rv != ver + 1):
                return False, state
            return True, (op["value"], ver + 1)
        if t == "fail":
            return (not match), state
        # info: if it happens here it wins; "never" = linearized at the end
        return True, ((op["value"], ver + 1) if match else state)
    raise ValueError("not a register op: %r" % (f,))


class _Entry:
    __slots__ = ("op", "idx", "is_call", "match", "prev", "next", "time")

    def __init__(self, op, idx, is_call, time):
        self.op, self.idx, self.is_call, self.time = op, idx, is_call, time
        self.match = self.prev = self.next = None


UNREAD = "<a value no read returned>"


def _prepare(ops):
    """Drop ops that constrain nothing: reads without a result, writes that
    definitely failed, cas that failed for another reason than BadVersion.
    Unknown-outcome writes whose value no read returned write UNREAD
    instead: their order among themselves then does not matter, which keeps
    the memoized search small (only their version bumps are visible)."""
    read_values = {op.get("rvalue") for op in ops if op["f"] == "read" and op["type"] == "ok"}
    out = []
    for op in ops:
        f, t = op["f"], op["type"]
        if f not in REGISTER_FS:
            continue
        if f == "read" and t != "ok":
            continue
        if f == "write" and t == "fail":
            continue
        if f == "cas" and t == "fail" and op.get("error") not in (None, "BadVersion", "BadVersionError"):
            continue
        if t == "info" and f in ("write", "cas") and op["value"] not in read_values:
            op = dict(op, value=UNREAD)
        out.append(op)
    return out


def check_register(ops, init=(None, 0), max_steps=2_000_000):
    """Is this single-key history linearizable? Returns a dict:
    {"valid": True|False|None (None = search budget exhausted),
     "ops": n, "steps": n, and on failure "witness": {...}}."""
    ops = _prepare(ops)
    if not ops:
        return {"valid": True, "ops": 0, "steps": 0}
    events = []
    for i, op in enumerate(ops):
        inv = op["invoke"]
        comp = INF if op["type"] == "info" or op.get("complete") is None else op["complete"]
        if comp < inv:
            raise ValueError("op completes before it is invoked: %r" % (op,))
        events.append((inv, 0, i, True))
        events.append((comp, 1, i, False))
    # calls before returns at equal times (the more permissive order)
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    head = _Entry(None, -1, False, -INF)
    prev = head
    calls_by_idx = {}
    for tm, _, i, is_call in events:
        e = _Entry(ops[i], i, is_call, tm)
        if is_call:
            calls_by_idx[i] = e
        else:
            calls_by_idx[i].match = e
        prev.next, e.prev = e, prev
        prev = e

    def lift(e):
        e.prev.next = e.next
        if e.next:
            e.next.prev = e.prev
        m = e.match
        m.prev.next = m.next
        if m.next:
            m.next.prev = m.prev

    def unlift(e):
        m = e.match
        m.prev.next = m
        if m.next:
            m.next.prev = m
        e.prev.next = e
        if e.next:
            e.next.prev = e

    def blind(op):
        return op["type"] == "info" and op["f"] == "write" and op["value"] == UNREAD

    # Blind writes (unknown outcome, value never read) are interchangeable:
    # a linearization that applies one at some point can apply the earliest
    # invoked unapplied one there instead. So within one pass over the list
    # only the first blind write is tried (`passed_blind`).
    state = tuple(init)
    linearized = 0
    cache = set()
    stack = []
    entry = head.next
    passed_blind = False
    steps = 0
    best = (-1, None, None)  # (depth, state, blocking op)
    while True:
        steps += 1
        if steps > max_steps:
            return {"valid": None, "ops": len(ops), "steps": steps,
                    "witness": _witness(ops, best)}
        if entry is None:
            return {"valid": True, "ops": len(ops), "steps": steps}
        if entry.is_call:
            is_blind = blind(entry.op)
            if is_blind and passed_blind:
                entry = entry.next
                continue
            legal, nstate = step(state, entry.op)
            if legal:
                nlin = linearized | (1 << entry.idx)
                k = (nlin, nstate)
                if k not in cache:
                    cache.add(k)
                    stack.append((entry, state, passed_blind))
                    state, linearized = nstate, nlin
                    lift(entry)
                    entry = head.next
                    passed_blind = False
                    continue
            passed_blind = passed_blind or is_blind
            entry = entry.next
            continue
        # a return event whose op is not linearized yet
        if entry.op["type"] == "info" or entry.time == INF:
            # only never-returning ops are left: they go at the end
            return {"valid": True, "ops": len(ops), "steps": steps}
        if len(stack) > best[0]:
            best = (len(stack), state, entry.op)
        if not stack:
            return {"valid": False, "ops": len(ops), "steps": steps,
                    "witness": _witness(ops, best)}
        e, state, passed_blind = stack.pop()
        passed_blind = passed_blind or blind(e.op)
        linearized &= ~(1 << e.idx)
        unlift(e)
        entry = e.next


def _witness(ops, best):
    depth, state, blocked = best
    if blocked is None:
        return {}
    # ops overlapping the blocked op, for the report
    lo, hi = blocked["invoke"], blocked.get("complete") or INF
    near = [o for o in ops
            if o["invoke"] <= hi and (o["type"] == "info" or (o.get("complete") or INF) >= lo - 1.0)]
    near.sort(key=lambda o: o["invoke"])
    return {"linearized_prefix": depth, "state_before": list(state) if state else None,
            "cannot_linearize": blocked, "concurrent_ops": near[:30]}


def check_linearizable(history, inits=None, max_steps=2_000_000):
    """check_register for every key of the history's register ops.
    inits: {key: (value, version)} (default (None, 0) for a key not there)."""
    by_key = defaultdict(list)
    for op in history:
        if op["f"] in REGISTER_FS:
            by_key[op["key"]].append(op)
    inits = inits or {}
    results = {}
    for key, ops in sorted(by_key.items()):
        results[key] = check_register(ops, inits.get(key, (None, 0)), max_steps)
    bad = {k: r for k, r in results.items() if r["valid"] is False}
    unsure = {k: r for k, r in results.items() if r["valid"] is None}
    return {"valid": False if bad else (None if unsure else True),
            "keys": len(results), "ops": sum(r["ops"] for r in results.values()),
            "failures": bad, "inconclusive": unsure}


# ---- session guarantees -----------------------------------------------------

def check_monotonic(history):
    """Within one session, versions of a key seen by reads (and produced by
    the session's own writes) never go backwards, nor does the client's last
    zxid across ok ops, nor a node's mzxid."""
    errors = []
    seen_ver = {}   # (process, session, key) -> (version, op)
    seen_mzxid = {}
    seen_zxid = {}  # (process, session) -> (zxid, op)
    for op in sorted((o for o in history if o["type"] == "ok"), key=lambda o: o["complete"]):
        sess = (op["process"], op.get("session"))
        z = op.get("rzxid")
        if z is not None and z > 0:
            prev = seen_zxid.get(sess)
            if prev and z < prev[0]:
                errors.append({"what": "last zxid went backwards", "before": prev[1], "after": op})
            if not prev or z >= prev[0]:
                seen_zxid[sess] = (z, op)
        key = op.get("key")
        ver = op.get("rversion")
        if key is None or ver is None or op["f"] not in ("read", "get", "write", "cas", "incr"):
            continue
        k = sess + (key,)
        prev = seen_ver.get(k)
        if prev and ver < prev[0]:
            errors.append({"what": "version of %s went backwards" % key, "before": prev[1], "after": op})
        if not prev or ver >= prev[0]:
            seen_ver[k] = (ver, op)
        mz = op.get("rmzxid")
        if mz is not None:
            prev = seen_mzxid.get(k)
            if prev and mz < prev[0]:
                errors.append({"what": "mzxid of %s went backwards" % key, "before": prev[1], "after": op})
            if not prev or mz >= prev[0]:
                seen_mzxid[k] = (mz, op)
    return {"valid": not errors, "errors": errors[:20], "n_errors": len(errors)}


# ---- sets, queue, counter ---------------------------------------------------

def check_sequential(history, final_children):
    """Sequential creates: every acked name exists at the end (none are ever
    deleted), no name acked twice, no two nodes hold the same unique value
    (a create applied twice). final_children: {name: value}."""
    acked = [op for op in history if op["f"] == "create_seq" and op["type"] == "ok"]
    unknown = [op for op in history if op["f"] == "create_seq" and op["type"] == "info"]
    names = defaultdict(list)
    for op in acked:
        names[op["rvalue"]].append(op)
    dup_names = {n: v for n, v in names.items() if len(v) > 1}
    lost = [op for op in acked if op["rvalue"] not in final_children]
    by_value = defaultdict(list)
    for n, v in final_children.items():
        by_value[v].append(n)
    dup_values = {v: ns for v, ns in by_value.items() if len(ns) > 1}
    known_values = {op["value"] for op in acked + unknown}
    phantom = sorted(n for n, v in final_children.items() if v not in known_values)
    ok = not (dup_names or lost or dup_values or phantom)
    return {"valid": ok, "acked": len(acked), "unknown": len(unknown), "final": len(final_children),
            "lost": lost[:20], "n_lost": len(lost), "duplicated_names": dup_names,
            "duplicated_values": dup_values, "phantom": phantom[:20]}


def check_queue(history, final_items):
    """Queue of unique values (sequential create + delete of the lowest).
    No value consumed twice; every acked enqueue is consumed (ok or unknown
    dequeue) or still queued; nothing consumed or queued that was never
    enqueued; nothing both consumed-ok and still queued.
    final_items: values still in the queue at the end."""
    enq_ok = {op["value"] for op in history if op["f"] == "enqueue" and op["type"] == "ok"}
    enq_any = {op["value"] for op in history if op["f"] == "enqueue" and op["type"] in ("ok", "info")}
    deq_ok = [op for op in history if op["f"] == "dequeue" and op["type"] == "ok"
              and op.get("rvalue") is not None]
    deq_info = {op.get("rvalue") for op in history if op["f"] == "dequeue" and op["type"] == "info"}
    consumed = defaultdict(list)
    for op in deq_ok:
        consumed[op["rvalue"]].append(op)
    twice = {v: ops for v, ops in consumed.items() if len(ops) > 1}
    final = list(final_items)
    final_set = set(final)
    dup_final = sorted(v for v in final_set if final.count(v) > 1)
    consumed_and_queued = sorted(v for v in consumed if v in final_set)
    lost = sorted(v for v in enq_ok if v not in consumed and v not in final_set and v not in deq_info)
    phantom = sorted(v for v in list(consumed) + final if v not in enq_any)
    ok = not (twice or dup_final or consumed_and_queued or lost or phantom)
    return {"valid": ok, "enqueued": len(enq_ok), "dequeued": len(deq_ok), "remaining": len(final),
            "consumed_twice": twice, "duplicated_in_queue": dup_final,
            "consumed_and_still_queued": consumed_and_queued, "lost": lost[:20], "n_lost": len(lost),
            "phantom": phantom[:20]}


def check_counter(history, final_value, initial=0):
    """CAS counter: acked increments <= final - initial <= acked + unknown,
    and no two acked increments wrote the same value."""
    acked = [op for op in history if op["f"] == "incr" and op["type"] == "ok"]
    unknown = [op for op in history if op["f"] == "incr" and op["type"] == "info"]
    vals = defaultdict(list)
    for op in acked:
        vals[op["value"]].append(op)
    dup = {v: ops for v, ops in vals.items() if len(ops) > 1}
    delta = final_value - initial
    ok = len(acked) <= delta <= len(acked) + len(unknown) and not dup
    return {"valid": ok, "acked": len(acked), "unknown": len(unknown), "final": final_value,
            "lost": max(0, len(acked) - delta), "extra": max(0, delta - len(acked) - len(unknown)),
            "duplicate_winners": dup}
