"""Fault rounds against a 3-member ensemble (zkrs or Apache ZooKeeper), a
kazoo workload recording a history, and the checks of linearizability.py.

    python3 tests/faults/faultrun.py --rounds 100 --tick 2000 --systems zkrs,apache

(scripts/fault-soak.sh wraps this; scripts/fault-tests.sh runs the short
version through pytest). Needs root (iptables) and ZKRS_BIN for zkrs.

Every process is started by us and killed by PID; every iptables rule is
tagged (ensharness.FW_TAG) and deleted; every wait is bounded."""

import argparse
import bisect
import json
import logging
import os
import random
import shutil
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import zkens  # noqa: E402  (puts tests/ensemble and tests/compat on sys.path)
import ensharness  # noqa: E402
import ensutil  # noqa: E402
import linearizability as lin  # noqa: E402
import workload as wl  # noqa: E402

# kazoo logs every dropped connection; the history records what matters
logging.getLogger("kazoo").setLevel(logging.CRITICAL)

ZKRS_BASE = int(os.environ.get("ZKRS_FAULTS_BASE", "41"))
APACHE_BASE = int(os.environ.get("APACHE_FAULTS_BASE", "51"))
CLIENT_IP = "127.0.0.1"  # kazoo's source address on loopback

# Round kinds, in the order they are cycled through.
KINDS = ["kill_leader", "partition_leader", "stop_leader", "kill_follower",
         "bridge", "clients_cut_leader", "partition_random", "kill_all"]


class Config:
    def __init__(self, tick_ms=200, rounds=16, fault_ticks=10, gap_ticks=5, session_ticks=20,
                 clients=6, seed=1, kinds=None, out=None, max_ops=200000, pause=0.003):
        self.tick_ms = tick_ms
        self.rounds = rounds
        self.fault_ticks = fault_ticks
        self.gap_ticks = gap_ticks
        self.session_ticks = session_ticks
        self.clients = clients
        self.seed = seed
        self.kinds = list(kinds or KINDS)
        self.out = out or os.path.join(os.environ.get("TMPDIR", "/tmp"), "zkrs-faults")
        self.max_ops = max_ops
        self.pause = pause

    @property
    def tick(self):
        return self.tick_ms / 1000.0

    @property
    def fault_s(self):
        return self.fault_ticks * self.tick

    @property
    def gap_s(self):
        return self.gap_ticks * self.tick

    @property
    def session_s(self):
        return self.session_ticks * self.tick

    @property
    def op_timeout(self):
        return min(self.session_s, max(2.0, 10 * self.tick))

    @property
    def recovery_timeout(self):
        return max(30.0, 60 * self.tick)

    def as_dict(self):
        d = dict(vars(self))
        d.update(fault_s=self.fault_s, gap_s=self.gap_s, session_s=self.session_s,
                 op_timeout=self.op_timeout, recovery_timeout=self.recovery_timeout)
        return d


def log(msg):
    print("[faults %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---- faults -----------------------------------------------------------------

class Nemesis:
    def __init__(self, ens, rnd):
        self.ens = ens
        self.rnd = rnd
        self.stopped = []  # members we SIGSTOPped and not yet SIGCONTed

    def cut_client_port(self, m):
        fw = self.ens.fw
        for r in (["-s", CLIENT_IP, "-d", m.ip, "-p", "tcp", "--dport", str(m.client_port)],
                  ["-s", m.ip, "-d", CLIENT_IP, "-p", "tcp", "--sport", str(m.client_port)]):
            rule = r + ["-m", "comment", "--comment", ensharness.FW_TAG, "-j", "DROP"]
            ensharness.iptables("-I", "INPUT", *rule)
            fw.rules.append(rule)

    def start(self, kind, leader):
        """Inject the fault; returns (description, heal function)."""
        ens = self.ens
        others = [m for m in ens.members if m is not leader]
        if kind in ("kill_leader", "kill_follower", "kill_all"):
            victims = {"kill_leader": [leader], "kill_follower": [self.rnd.choice(others)],
                       "kill_all": list(ens.members)}[kind]
            for m in victims:
                m.kill()

            def heal():
                for m in victims:
                    m.wait_port_free(timeout=20)
                    m.start()
            return "SIGKILL %s" % [m.id for m in victims], heal
        if kind == "stop_leader":
            os.kill(leader.proc.pid, signal.SIGSTOP)
            self.stopped.append(leader)

            def heal():
                self.cont_all()
            return "SIGSTOP %d" % leader.id, heal
        if kind in ("partition_leader", "partition_random"):
            m = leader if kind == "partition_leader" else self.rnd.choice(ens.members)
            ens.isolate(m)
            return "isolate %d (leader %d)" % (m.id, leader.id), ens.heal
        if kind == "bridge":
            f = self.rnd.choice(others)
            ens.fw.cut(leader.ip, f.ip)
            return "cut leader %d from %d" % (leader.id, f.id), ens.heal
        if kind == "clients_cut_leader":
            self.cut_client_port(leader)
            return "clients cut from %d's client port" % leader.id, ens.heal
        raise ValueError(kind)

    def cont_all(self):
        while self.stopped:
            m = self.stopped.pop()
            if m.alive():
                try:
                    os.kill(m.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass


# ---- one system -------------------------------------------------------------

def make_ensemble(system, workdir):
    if system == "zkrs":
        return ensharness.Ensemble(3, 0, base_ip=ZKRS_BASE, workdir=workdir)
    if system == "apache":
        return zkens.ZkEnsemble(3, base_ip=APACHE_BASE, workdir=workdir)
    raise ValueError(system)


def retry(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(0.2)
    raise AssertionError("%s: no success in %.0fs (last error %r)" % (what, timeout, last))


class SystemRun:
    def __init__(self, system, cfg):
        self.system = system
        self.cfg = cfg
        self.rnd = random.Random(cfg.seed)
        self.keys = []
        self.all_keys = []
        self.rounds = []
        self.crashes = []
        self.notes = []
        self.t0 = None

    def rel(self, t):
        return None if t is None else round(t - self.t0, 3)

    def health(self, ens, timeout):
        """All members running and one leader; restarts members that died
        on their own (recorded as crashes)."""
        for _ in range(3):
            for m in ens.members:
                if m.proc is not None and not m.alive():
                    if not m.killed:
                        self.crashes.append({"t": self.rel(time.monotonic()), "member": m.id,
                                             "rc": m.proc.returncode, "log": m.log_tail(20)})
                        log("%s: member %d exited by itself (%s), restarting" % (
                            self.system, m.id, m.proc.returncode))
                    m.kill()
                    m.wait_port_free(timeout=20)
                    m.start()
            try:
                ens.wait_serving(timeout)
                return True
            except AssertionError as e:
                self.notes.append("not serving at %s: %s" % (self.rel(time.monotonic()), str(e)[:300]))
        return False

    def setup_nodes(self, hosts):
        zk = wl.new_client(hosts, self.cfg.session_s)
        zk.start(timeout=30)
        try:
            for p in (wl.ROOT, wl.REG, wl.SEQ, wl.QUEUE):
                zk.ensure_path(p)
            if not zk.exists(wl.COUNTER):
                zk.create(wl.COUNTER, b"0")
            per_round = []
            for r in range(self.cfg.rounds + 1):
                ks = ["%s/r%03d-k%d" % (wl.REG, r, i) for i in range(3)]
                for k in ks:
                    zk.create_async(k, wl.INIT_VALUE.encode())
                per_round.append(ks)
            zk.sync(wl.REG)
            for ks in per_round:
                for k in ks:
                    assert zk.get(k)[0] == wl.INIT_VALUE.encode(), k
            return per_round
        finally:
            zk.stop()
            zk.close()

    def run(self):
        cfg = self.cfg
        ensharness.TICK_TIME = cfg.tick_ms
        os.makedirs(cfg.out, exist_ok=True)
        workdir = os.path.join(cfg.out, "%s-members" % self.system)
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        self.workdir = workdir
        ens = make_ensemble(self.system, workdir)
        nem = Nemesis(ens, self.rnd)
        clients = []
        try:
            t_start = time.monotonic()
            ens.start(timeout=60)
            self.startup_s = time.monotonic() - t_start
            hosts = ens.connect_string()
            per_round = self.setup_nodes(hosts)
            self.keys = per_round[0]
            self.all_keys = [k for ks in per_round for k in ks]
            self.t0 = time.monotonic()
            deadline = self.t0 + cfg.rounds * (cfg.gap_s + cfg.fault_s + cfg.recovery_timeout + 30) + 60
            for i in range(cfg.clients):
                c = wl.Client(i, hosts, self, cfg.session_s, cfg.op_timeout, cfg.max_ops, deadline,
                              seed=cfg.seed * 1000 + i, pause=cfg.pause)
                c.start()
                clients.append(c)
            self.clients = clients
            retry(lambda: all(c.zk is not None and c.zk.connected for c in clients) or 1 / 0, 30,
                  "clients connected")
            log("%s: ensemble up in %.1fs (%s), %d clients" % (self.system, self.startup_s, hosts,
                                                              len(clients)))
            for r in range(cfg.rounds):
                self.one_round(r, ens, nem, per_round[r + 1] if r + 1 < len(per_round) else per_round[-1])
            # let the last round's keys see some quiet traffic
            time.sleep(cfg.gap_s)
            self.t_end = time.monotonic()
            for c in clients:
                c.stop(cfg.op_timeout * 4 + 5)
            for c in clients:
                c.close()
            self.health(ens, cfg.recovery_timeout)
            self.final = self.final_state(hosts)
        finally:
            nem.cont_all()
            for c in clients:
                c.stop_ev.set()
            for c in clients:
                c.close()
            ens.cleanup()
            self.logs_tail = ens.logs_tail(40)
        return self

    def one_round(self, r, ens, nem, next_keys):
        cfg = self.cfg
        kind = cfg.kinds[r % len(cfg.kinds)]
        rnd_start = time.monotonic()
        rec = {"round": r, "kind": kind, "keys": list(self.keys)}
        time.sleep(cfg.gap_s)
        try:
            leader = ens.leader(timeout=cfg.recovery_timeout)
        except AssertionError as e:
            rec["error"] = "no leader before the fault: %s" % str(e)[:300]
            self.health(ens, cfg.recovery_timeout)
            leader = None
        if leader is not None:
            placement = [ensutil.connected_to(c.zk) if c.zk else None for c in self.clients]
            rec["clients_on_leader"] = sum(1 for h in placement if h == leader.hostport)
            what, heal = nem.start(kind, leader)
            t_fault = time.monotonic()  # once the fault is in place
            time.sleep(cfg.fault_s)
            heal()
            t_heal = time.monotonic()  # members restarted / rules removed / SIGCONT sent
            rec.update(fault=what, leader=leader.id, start=self.rel(t_fault), heal=self.rel(t_heal))
            # recovery: every client has an acked write invoked after the heal
            deadline = t_heal + cfg.recovery_timeout
            while time.monotonic() < deadline:
                if all(c.last_write_invoke >= t_heal for c in self.clients if c.is_alive()):
                    break
                time.sleep(0.05)
            rec["t_fault"], rec["t_heal"] = t_fault, t_heal
        if not self.health(ens, cfg.recovery_timeout):
            rec["error"] = (rec.get("error", "") + " ensemble not serving after the round").strip()
        rec["t_begin"], rec["t_end"] = rnd_start, time.monotonic()
        self.rounds.append(rec)
        self.keys = next_keys  # fresh registers for the next round
        log("%s round %d/%d %-18s %s" % (self.system, r + 1, cfg.rounds, kind, rec.get("fault", rec.get("error"))))

    def final_state(self, hosts):
        """After the clients closed: final sync'd reads of every register
        (recorded as reads), the sequential nodes, queue and counter."""
        zk = wl.new_client(hosts, self.cfg.session_s)
        retry(lambda: zk.start(timeout=10), 60, "final client")
        try:
            hist = []
            for k in self.all_keys:
                t = time.monotonic()
                zk.sync(k)
                data, st = zk.get(k)
                hist.append({"process": -1, "session": "final", "f": "read", "key": k, "type": "ok",
                             "rvalue": data.decode(), "rversion": st.version, "invoke": t,
                             "complete": time.monotonic()})

            def children(path):
                zk.sync(path)
                kids = zk.get_children(path)
                asyncs = [(k, zk.get_async(path + "/" + k)) for k in kids]
                return {k: a.get(timeout=30)[0].decode() for k, a in asyncs}
            seq = retry(lambda: children(wl.SEQ), 60, "final sequential nodes")
            queue = retry(lambda: children(wl.QUEUE), 60, "final queue")
            zk.sync(wl.COUNTER)
            counter = int(zk.get(wl.COUNTER)[0])
            return {"reads": hist, "seq": seq, "queue": [queue[k] for k in sorted(queue)],
                    "counter": counter}
        finally:
            zk.stop()
            zk.close()


# ---- analysis ---------------------------------------------------------------

def analyse(run):
    cfg = run.cfg
    history = [op for c in run.clients for op in c.history]
    final = run.final
    # register checks: the registers plus the counter's CAS increments
    reg_hist = [op for op in history if op["f"] in lin.REGISTER_FS] + final["reads"]
    for op in history:
        if op["f"] == "incr":
            reg_hist.append(dict(op, f="cas", key=wl.COUNTER))
    inits = {k: (wl.INIT_VALUE, 0) for k in run.all_keys}
    inits[wl.COUNTER] = ("0", 0)
    t = time.monotonic()
    linr = lin.check_linearizable(reg_hist, inits)
    lin_s = time.monotonic() - t
    mono = lin.check_monotonic(history)
    seq = lin.check_sequential(history, final["seq"])
    queue = lin.check_queue(history, final["queue"])
    counter = lin.check_counter(history, final["counter"], 0)

    n = len(history)
    n_info = sum(1 for op in history if op["type"] == "info")
    n_ok = sum(1 for op in history if op["type"] == "ok")
    n_fail = sum(1 for op in history if op["type"] == "fail")
    expired = sorted(t for c in run.clients for t in c.expired)
    acks = sorted((op["invoke"], op["complete"], op["process"]) for op in history if wl.acked_write(op))

    inv_sorted = sorted(history, key=lambda o: o["invoke"])
    invokes = [o["invoke"] for o in inv_sorted]
    ack_invokes = [a[0] for a in acks]
    rounds = []
    for rec in run.rounds:
        lo, hi = rec["t_begin"], rec["t_end"]
        in_r = inv_sorted[bisect.bisect_left(invokes, lo):bisect.bisect_left(invokes, hi)]
        out = {k: v for k, v in rec.items() if not k.startswith("t_")}
        out.update(ops=len(in_r), ok=sum(1 for o in in_r if o["type"] == "ok"),
                   fail=sum(1 for o in in_r if o["type"] == "fail"),
                   unknown=sum(1 for o in in_r if o["type"] == "info"),
                   sessions_expired=sum(1 for t in expired if lo <= t < hi))
        if "t_fault" in rec:
            tf, th = rec["t_fault"], rec["t_heal"]
            after_fault = [c for i, c, p in acks[bisect.bisect_left(ack_invokes, tf):]]
            out["fault_to_ack_s"] = round(min(after_fault) - tf, 3) if after_fault else None
            first = {}  # client -> earliest completion of an acked write invoked after the heal
            for i, cm, p in acks[bisect.bisect_left(ack_invokes, th):bisect.bisect_left(ack_invokes, hi)]:
                if cm <= hi and (p not in first or cm < first[p]):
                    first[p] = cm
            per_client = [first[c.pid] - th if c.pid in first else None for c in run.clients]
            out["recovery_s"] = (None if any(x is None for x in per_client)
                                 else round(max(per_client), 3))
        rounds.append(out)

    kill_leader = [r["fault_to_ack_s"] for r in rounds
                   if r["kind"] == "kill_leader" and r.get("fault_to_ack_s") is not None]
    recov = [r.get("recovery_s") for r in rounds if "start" in r]
    never = sum(1 for x in recov if x is None)
    slowest = max((x for x in recov if x is not None), default=None)
    correct = {
        "linearizable": linr["valid"] is True,
        "nothing_lost": seq["n_lost"] == 0 and queue["n_lost"] == 0 and counter["lost"] == 0,
        "nothing_duplicated": (not seq["duplicated_names"] and not seq["duplicated_values"]
                               and not queue["consumed_twice"] and not queue["duplicated_in_queue"]
                               and not queue["consumed_and_still_queued"]
                               and not counter["duplicate_winners"]),
        "no_phantoms": (not seq["phantom"] and not queue["phantom"] and counter["extra"] == 0),
        "monotonic_reads": mono["valid"],
    }
    summary = dict(correct)
    summary.update(
        correct=all(correct.values()),
        linearizability_result={True: "yes", False: "no", None: "inconclusive"}[linr["valid"]],
        register_ops_checked=linr["ops"], registers=linr["keys"], checker_s=round(lin_s, 2),
        rounds=len(rounds), round_errors=sum(1 for r in rounds if r.get("error")),
        ops_total=n, ops_ok=n_ok, ops_fail=n_fail, ops_completed=n_ok + n_fail, ops_unknown=n_info,
        unknown_pct=round(100.0 * n_info / n, 2) if n else 0.0,
        sessions_expired=len(expired),
        member_crashes=len(run.crashes),
        slowest_recovery_s=slowest, rounds_not_recovered=never,
        median_recovery_s=(round(statistics.median([x for x in recov if x is not None]), 3)
                           if any(x is not None for x in recov) else None),
        median_kill_leader_to_ack_s=(round(statistics.median(kill_leader), 3) if kill_leader else None),
        duration_s=round(run.t_end - run.t0, 1),
        startup_s=round(run.startup_s, 2),
    )
    checks = {"linearizability": _trim(linr), "monotonic": mono, "sequential": seq, "queue": queue,
              "counter": counter}
    clients = [{"id": c.pid, "ops": len(c.history), "sessions_expired": len(c.expired),
                "events": [(round(t - run.t0, 3), s) for t, s in c.events][-50:]}
               for c in run.clients]
    return {"system": run.system, "config": cfg.as_dict(), "summary": summary, "rounds": rounds,
            "checks": checks, "clients": clients, "crashes": run.crashes, "notes": run.notes}, history


def _trim(linr):
    d = dict(linr)
    d["failures"] = dict(list(linr["failures"].items())[:3])
    d["inconclusive"] = {k: {"ops": v["ops"], "steps": v["steps"]} for k, v in linr["inconclusive"].items()}
    return d


def run_system(system, cfg):
    """Run, analyse, write <out>/faults-<system>.json; keep member logs and
    the history when a check failed. Returns the result dict."""
    log("=== %s: %d rounds, tick %d ms, faults %.1fs, gaps %.1fs, %d clients" % (
        system, cfg.rounds, cfg.tick_ms, cfg.fault_s, cfg.gap_s, cfg.clients))
    run = SystemRun(system, cfg)
    try:
        run.run()
    except Exception as e:
        log("%s: run aborted: %r (member logs kept in %s)" % (system, e, getattr(run, "workdir", "?")))
        raise
    result, history = analyse(run)
    result["workdir"] = run.workdir
    keep = not result["summary"]["correct"] or os.environ.get("FAULTS_KEEP_HISTORY")
    if keep:
        hp = os.path.join(cfg.out, "history-%s.jsonl" % system)
        with open(hp, "w") as f:
            for op in sorted(history, key=lambda o: o["invoke"]):
                f.write(json.dumps(op, default=str) + "\n")
        result["history_file"] = hp
        result["member_logs"] = run.workdir
        result["logs_tail"] = run.logs_tail
    else:
        shutil.rmtree(run.workdir, ignore_errors=True)
    path = os.path.join(cfg.out, "faults-%s.json" % system)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, default=str)
    result["json"] = path
    log("%s: %s" % (system, json.dumps(result["summary"])))
    return result


# ---- report -----------------------------------------------------------------

ROWS = [
    ("linearizable", "linearizability_result", None),
    ("nothing lost", "nothing_lost", None),
    ("nothing duplicated", "nothing_duplicated", None),
    ("no phantom values", "no_phantoms", None),
    ("monotonic reads", "monotonic_reads", None),
    ("sessions expired (clients kept going)", "sessions_expired", "ratio"),
    ("ops with unknown outcome", "ops_unknown", "ratio"),
    ("  unknown %", "unknown_pct", "ratio"),
    ("ops completed (ok + definite fail)", "ops_completed", "ratio"),
    ("ops total", "ops_total", "ratio"),
    ("slowest recovery after heal (s)", "slowest_recovery_s", "ratio"),
    ("median recovery after heal (s)", "median_recovery_s", "ratio"),
    ("rounds not recovered in time", "rounds_not_recovered", "ratio"),
    ("median leader SIGKILL -> acked write (s)", "median_kill_leader_to_ack_s", "ratio"),
    ("member crashes (not by us)", "member_crashes", "ratio"),
    ("rounds", "rounds", None),
    ("run time (s)", "duration_s", "ratio"),
]


def fmt(v):
    if v is True:
        return "yes"
    if v is False:
        return "NO"
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.3g" % v if abs(v) < 100 else "%.0f" % v
    return str(v)


def table(results):
    """Side-by-side table (zkrs | apache | zkrs/apache)."""
    systems = [r["system"] for r in results]
    by = {r["system"]: r["summary"] for r in results}
    head = ["", *systems] + (["zkrs/apache"] if {"zkrs", "apache"} <= set(systems) else [])
    rows = [head]
    for label, key, kind in ROWS:
        row = [label] + [fmt(by[s].get(key)) for s in systems]
        if len(head) > len(systems) + 1:
            a, z = by["apache"].get(key), by["zkrs"].get(key)
            if kind == "ratio" and isinstance(a, (int, float)) and isinstance(z, (int, float)) \
                    and not isinstance(a, bool):
                row.append("%.2f" % (z / a) if a else ("=" if z == a else "inf"))
            else:
                row.append("")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    per_round = []
    for r in results:
        per_round.append("%s rounds:" % r["system"])
        for x in r["rounds"]:
            per_round.append("  %2d %-18s ok %5d fail %4d unknown %4d expired %2d  fault->ack %-6s "
                             "recovery %-6s on leader %s %s" % (
                                 x["round"], x["kind"], x["ok"], x["fail"], x["unknown"],
                                 x["sessions_expired"], fmt(x.get("fault_to_ack_s")),
                                 fmt(x.get("recovery_s")), fmt(x.get("clients_on_leader")),
                                 x.get("error", "")))
    return "\n".join(lines), "\n".join(per_round)


def correctness_failures(result):
    s = result["summary"]
    bad = [k for k in ("linearizable", "nothing_lost", "nothing_duplicated", "no_phantoms",
                       "monotonic_reads") if not s[k]]
    return bad


def evidence(result, limit=4000):
    """A readable excerpt of what failed."""
    c = result["checks"]
    out = []
    for k, v in c["linearizability"]["failures"].items():
        w = v.get("witness", {})
        out.append("register %s not linearizable (%d ops): state before %s, cannot linearize %s"
                   % (k, v["ops"], w.get("state_before"), json.dumps(w.get("cannot_linearize"), default=str)))
        for op in w.get("concurrent_ops", [])[:15]:
            out.append("    " + json.dumps({x: op.get(x) for x in (
                "process", "session", "f", "type", "value", "expect", "rvalue", "rversion", "error",
                "invoke", "complete")}, default=str))
    if c["linearizability"]["inconclusive"]:
        out.append("inconclusive registers: %s" % c["linearizability"]["inconclusive"])
    for name in ("monotonic", "sequential", "queue", "counter"):
        if not c[name]["valid"]:
            out.append("%s: %s" % (name, json.dumps(c[name], default=str)[:1500]))
    return "\n".join(out)[:limit]


REPORT = {}  # the last tables, for conftest's terminal summary


def run_all(systems, cfg, keep_going=False):
    """Run each system in turn. With keep_going, a system whose run raised
    is reported as {"system": s, "error": ...} and the others still run."""
    results = []
    for s in systems:
        try:
            results.append(run_system(s, cfg))
        except Exception as e:  # noqa: BLE001
            if not keep_going:
                raise
            results.append({"system": s, "error": repr(e)})
        finally:
            ensharness.delete_tagged_rules()
    done = [r for r in results if "summary" in r]
    if done:
        t, per_round = table(done)
        REPORT["text"] = per_round + "\n\n" + t
        with open(os.path.join(cfg.out, "summary.txt"), "w") as f:
            f.write(REPORT["text"] + "\n")
    return results


def sigterm_raises():
    """`timeout` sends SIGTERM: turn it into KeyboardInterrupt so the finally
    blocks kill the members and delete the rules."""
    def handler(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, handler)


def main(argv=None):
    sigterm_raises()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default="zkrs,apache")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--tick", type=int, default=2000, help="tickTime in ms (both systems)")
    ap.add_argument("--fault-ticks", type=float, default=8)
    ap.add_argument("--gap-ticks", type=float, default=2)
    ap.add_argument("--session-ticks", type=float, default=20)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    err = ensharness.ensure_iptables()
    if err:
        print("faults: %s" % err, file=sys.stderr)
        return 2
    cfg = Config(tick_ms=a.tick, rounds=a.rounds, fault_ticks=a.fault_ticks, gap_ticks=a.gap_ticks,
                 session_ticks=a.session_ticks, clients=a.clients, seed=a.seed,
                 kinds=a.kinds.split(","), out=a.out)
    try:
        results = run_all(a.systems.split(","), cfg)
    finally:
        ensharness.delete_tagged_rules()
    print(REPORT.get("text", ""))
    rc = 0
    for r in results:
        bad = correctness_failures(r)
        if bad:
            print("\n%s VIOLATES %s\n%s" % (r["system"], bad, evidence(r)))
            if r["system"] == "zkrs":
                rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
