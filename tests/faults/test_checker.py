"""Unit tests of the fault suite's checkers (linearizability.py): they accept
valid histories and reject broken ones."""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import linearizability as lin  # noqa: E402

INIT = ("init", 0)


def op(f, t, inv, comp, p=0, key="k", value=None, expect=None, rvalue=None, rversion=None, **kw):
    d = {"process": p, "session": p, "f": f, "type": t, "invoke": inv,
         "complete": None if t == "info" else comp, "key": key, "value": value,
         "expect": expect, "rvalue": rvalue, "rversion": rversion}
    d.update(kw)
    return d


def W(inv, comp, v, p=0, t="ok", ver=None):
    return op("write", t, inv, comp, p, value=v, rversion=ver)


def R(inv, comp, v, ver=None, p=0):
    return op("read", "ok", inv, comp, p, rvalue=v, rversion=ver)


def CAS(inv, comp, expect, v, p=0, t="ok", ver=None):
    return op("cas", t, inv, comp, p, value=v, expect=expect, rversion=ver,
              error="BadVersion" if t == "fail" else None)


def valid(ops, init=INIT):
    return lin.check_register(ops, init)["valid"]


# ---- accepts ----------------------------------------------------------------

def test_empty_and_sequential():
    assert valid([])
    assert valid([W(0, 1, "a", ver=1), R(2, 3, "a", 1), CAS(4, 5, 1, "b", ver=2), R(6, 7, "b", 2)])


def test_concurrent_read_may_see_old_or_new():
    assert valid([W(0, 10, "a", p=1), R(1, 2, "init", 0, p=2), R(3, 4, "a", 1, p=3)])
    assert valid([W(0, 10, "a", p=1), R(1, 2, "a", 1, p=2), R(3, 4, "a", 1, p=3)])


def test_concurrent_writes_any_order():
    h = [W(0, 10, "a", p=1), W(0, 10, "b", p=2), R(11, 12, "a", 2, p=3)]
    assert valid(h)
    h[-1] = R(11, 12, "b", 2, p=3)
    assert valid(h)


def test_unknown_write_may_take_effect_late():
    # the unknown write is seen long after it was invoked
    assert valid([W(0, None, "x", p=1, t="info"), R(5, 6, "init", 0, p=2), R(50, 51, "x", 1, p=2)])


def test_unknown_write_may_never_take_effect():
    assert valid([W(0, None, "x", p=1, t="info"), R(5, 6, "init", 0, p=2), W(7, 8, "y", p=2, ver=1),
                  R(9, 10, "y", 1, p=2)])


def test_unknown_cas_and_badversion():
    h = [CAS(0, None, 0, "a", p=1, t="info"), CAS(1, 2, 0, "b", p=2, t="fail"), R(3, 4, "a", 1)]
    assert valid(h)
    # a failed cas is fine when someone else moved the version first
    assert valid([W(0, 1, "a", ver=1), CAS(2, 3, 0, "b", p=2, t="fail"), R(4, 5, "a", 1)])


def test_definite_failures_that_do_not_constrain_are_ignored():
    assert valid([op("read", "info", 0, None), op("write", "fail", 0, 1, value="zz", error="NoNode"),
                  R(2, 3, "init", 0)])


def test_random_valid_histories():
    """Histories produced by a real linearizable register (random overlaps,
    failed cas, unknown outcomes) are accepted."""
    rnd = random.Random(7)
    for _ in range(40):
        slots, t = [], 0.0
        for i in range(60):
            inv = t
            lin_t = inv + rnd.random()          # linearization point
            slots.append((lin_t, inv, lin_t + rnd.random(), rnd.randrange(5), rnd.choice("rwcx"), i))
            t += rnd.random() * 0.5             # the next op overlaps often
        slots.sort()
        state = ["init", 0]
        ops = []
        for _lin, inv, comp, p, kind, i in slots:   # applied in linearization order
            if kind == "r":
                o = R(inv, comp, state[0], state[1], p=p)
            elif kind == "w":
                state = ["v%d" % i, state[1] + 1]
                o = W(inv, comp, state[0], p=p, ver=state[1])
            elif kind == "c":
                exp = state[1] if rnd.random() < 0.6 else state[1] + 1
                if exp == state[1]:
                    state = ["v%d" % i, state[1] + 1]
                    o = CAS(inv, comp, exp, state[0], p=p, ver=state[1])
                else:
                    o = CAS(inv, comp, exp, "v%d" % i, p=p, t="fail")
            else:  # unknown write that took effect or not
                if rnd.random() < 0.5:
                    state = ["v%d" % i, state[1] + 1]
                o = W(inv, comp, "v%d" % i, p=p, t="info")
            ops.append(o)
        rnd.shuffle(ops)
        assert valid(ops), ops


# ---- rejects ----------------------------------------------------------------

def test_stale_read_after_acked_write():
    assert valid([W(0, 1, "a", ver=1), R(2, 3, "init", 0, p=2)]) is False


def test_stale_read_without_versions():
    assert valid([W(0, 1, "a"), R(2, 3, "init", p=2)]) is False


def test_lost_write():
    # acked write, later reads see the value before it
    h = [W(0, 1, "a", ver=1), W(2, 3, "b", ver=2, p=2), R(4, 5, "a", 1, p=3)]
    assert valid(h) is False


def test_read_of_never_written_value():
    assert valid([R(0, 1, "ghost", 1)]) is False


def test_cas_succeeded_on_wrong_version():
    assert valid([W(0, 1, "a", ver=1), CAS(2, 3, 0, "b", p=2, ver=2)]) is False


def test_two_cas_winners_on_one_version():
    h = [CAS(0, 5, 0, "a", p=1, ver=1), CAS(0, 5, 0, "b", p=2, ver=1)]
    assert valid(h) is False


def test_cas_badversion_when_version_matched():
    assert valid([CAS(0, 1, 0, "a", t="fail")]) is False


def test_write_reports_wrong_version():
    assert valid([W(0, 1, "a", ver=1), W(2, 3, "b", ver=3)]) is False


def test_reads_going_back_in_time():
    # a write concurrent with two sequential reads: new then old is illegal
    h = [W(0, 10, "a", p=1), R(1, 2, "a", 1, p=2), R(3, 4, "init", 0, p=3)]
    assert valid(h) is False


def test_unknown_write_cannot_explain_an_impossible_read():
    h = [W(0, None, "x", p=1, t="info"), W(1, 2, "y", p=2, ver=1), R(3, 4, "x", 1, p=2)]
    assert valid(h) is False


def test_witness_names_the_blocking_op():
    r = lin.check_register([W(0, 1, "a", ver=1), R(2, 3, "init", 0, p=2)], INIT)
    assert r["valid"] is False
    assert r["witness"]["cannot_linearize"]["f"] in ("read", "write")


def test_check_linearizable_per_key():
    h = [W(0, 1, "a", ver=1), R(2, 3, "a", 1)]
    for o in h:
        o["key"] = "k1"
    bad = [W(0, 1, "a", ver=1), R(2, 3, "init", 0)]
    for o in bad:
        o["key"] = "k2"
    r = lin.check_linearizable(h + bad, {"k1": INIT, "k2": INIT})
    assert r["valid"] is False and list(r["failures"]) == ["k2"]
    assert lin.check_linearizable(h, {"k1": INIT})["valid"] is True


# ---- session, sets, queue, counter ------------------------------------------

def test_monotonic_reads():
    good = [op("get", "ok", 0, 1, rversion=1, rzxid=10), op("get", "ok", 2, 3, rversion=2, rzxid=12)]
    assert lin.check_monotonic(good)["valid"]
    bad = [op("get", "ok", 0, 1, rversion=2, rzxid=12), op("get", "ok", 2, 3, rversion=1, rzxid=13)]
    assert not lin.check_monotonic(bad)["valid"]
    badz = [op("get", "ok", 0, 1, rversion=1, rzxid=12), op("get", "ok", 2, 3, rversion=1, rzxid=11)]
    assert not lin.check_monotonic(badz)["valid"]
    # another session may be behind: not a violation
    other = [op("get", "ok", 0, 1, rversion=2, p=1), op("get", "ok", 2, 3, rversion=1, p=2)]
    assert lin.check_monotonic(other)["valid"]


def seq(name, value, t="ok"):
    return op("create_seq", t, 0, 1, value=value, rvalue=name if t == "ok" else None)


def test_sequential_creates():
    h = [seq("c-01", "a"), seq("c-02", "b"), seq(None, "c", t="info")]
    assert lin.check_sequential(h, {"c-01": "a", "c-02": "b"})["valid"]
    assert lin.check_sequential(h, {"c-01": "a", "c-02": "b", "c-03": "c"})["valid"]
    r = lin.check_sequential(h, {"c-01": "a"})
    assert not r["valid"] and r["n_lost"] == 1
    assert not lin.check_sequential(h + [seq("c-01", "d")], {"c-01": "a", "c-02": "b"})["valid"]
    assert not lin.check_sequential(h, {"c-01": "a", "c-02": "b", "c-09": "a"})["valid"]
    assert not lin.check_sequential(h, {"c-01": "a", "c-02": "b", "c-07": "zz"})["valid"]


def enq(v, t="ok"):
    return op("enqueue", t, 0, 1, value=v)


def deq(v, t="ok"):
    return op("dequeue", t, 0, 1, rvalue=v)


def test_queue():
    h = [enq("a"), enq("b"), enq("c", "info"), deq("a")]
    assert lin.check_queue(h, ["b"])["valid"]
    assert lin.check_queue(h, ["b", "c"])["valid"]
    assert not lin.check_queue(h + [deq("a")], ["b"])["valid"]          # consumed twice
    assert not lin.check_queue(h, [])["valid"]                          # b lost
    assert lin.check_queue(h + [deq("b", "info")], [])["valid"]         # b maybe consumed
    assert not lin.check_queue(h, ["a", "b"])["valid"]                  # consumed and queued
    assert not lin.check_queue(h, ["b", "zz"])["valid"]                 # phantom


def inc(v, t="ok"):
    return op("incr", t, 0, 1, value=v, expect=v - 1)


def test_counter():
    h = [inc(1), inc(2), inc(3, "info")]
    assert lin.check_counter(h, 2)["valid"]
    assert lin.check_counter(h, 3)["valid"]
    assert not lin.check_counter(h, 1)["valid"]   # acked increment lost
    assert not lin.check_counter(h, 4)["valid"]   # more than acked + unknown
    assert not lin.check_counter(h + [inc(2)], 3)["valid"]  # two winners wrote 2


# ---- the search against brute force ------------------------------------------

def brute_force(ops, init):
    """Every order of the ops that respects real time (unknown outcomes:
    anywhere after their invocation, or never)."""
    ops = lin._prepare(ops)

    def rec(state, done):
        pending = [i for i, o in enumerate(ops) if i not in done and o["type"] != "info"]
        if not pending:
            return True
        first_return = min(ops[i]["complete"] for i in pending)
        for i, o in enumerate(ops):
            if i in done or o["invoke"] > first_return:
                continue
            legal, nstate = lin.step(state, o)
            if legal and rec(nstate, done | {i}):
                return True
        return False
    return rec(init, frozenset())


def test_search_agrees_with_brute_force():
    """Small random histories, half of them corrupted: the memoized search
    and an exhaustive search agree on every one."""
    rnd = random.Random(3)
    verdicts = {True: 0, False: 0}
    for _ in range(1500):
        slots, t = [], 0.0
        for i in range(8):
            lin_t = t + rnd.random()
            slots.append((lin_t, t, lin_t + rnd.random(), rnd.randrange(3), rnd.choice("rwcxy"), i))
            t += rnd.random() * 0.5
        slots.sort()
        state = ["init", 0]
        ops = []
        for _lin, inv, comp, p, kind, i in slots:
            if kind == "r":
                o = R(inv, comp, state[0], state[1], p=p)
            elif kind == "w":
                state = ["v%d" % i, state[1] + 1]
                o = W(inv, comp, state[0], p=p, ver=state[1])
            elif kind == "c":
                exp = state[1] if rnd.random() < 0.6 else state[1] + 1
                if exp == state[1]:
                    state = ["v%d" % i, state[1] + 1]
                    o = CAS(inv, comp, exp, state[0], p=p, ver=state[1])
                else:
                    o = CAS(inv, comp, exp, "v%d" % i, p=p, t="fail")
            elif kind == "y":   # unknown cas
                exp = state[1] if rnd.random() < 0.5 else state[1] - 1
                if exp == state[1] and rnd.random() < 0.5:
                    state = ["v%d" % i, state[1] + 1]
                o = CAS(inv, comp, exp, "v%d" % i, p=p, t="info")
            else:               # unknown write
                if rnd.random() < 0.5:
                    state = ["v%d" % i, state[1] + 1]
                o = W(inv, comp, "v%d" % i, p=p, t="info")
            ops.append(o)
        if rnd.random() < 0.5:  # corrupt one op
            o = rnd.choice(ops)
            if o["f"] == "read":
                o["rversion"] = max(0, o["rversion"] + rnd.choice([-1, 1]))
                o["rvalue"] = rnd.choice([o["rvalue"], "init", "v%d" % rnd.randrange(8)])
            elif o["type"] == "ok":
                o["rversion"] = (o["rversion"] or 0) + rnd.choice([-1, 1])
        expect = brute_force([dict(o) for o in ops], INIT)
        verdicts[expect] += 1
        assert lin.check_register([dict(o) for o in ops], INIT)["valid"] is expect, ops
    assert verdicts[True] > 300 and verdicts[False] > 100, verdicts
