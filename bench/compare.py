#!/usr/bin/env python3
"""zkrs and Apache ZooKeeper side by side, in one run.

Each round starts a fresh 3-member ensemble of each system on loopback
(zkrs on 127.0.0.101-103, ZooKeeper on 127.0.0.111-113) with the same
zoo.cfg (tickTime=2000, initLimit=10, syncLimit=5, the test suites' other
keys, maxClientCnxns=0), alternating which system goes first, and runs the same load
generator (`zkrs bench`) against both:

- load: get / set / create at 16 sessions x 16 in flight (sessions spread
  over all members) and at 1 x 1 (one session on a follower), 100-byte
  values: ops/s and p50 / p99 / p99.9 latency;
- fanout: N sessions watch one znode, one write, time to the last
  notification;
- populate: on another fresh ensemble, M znodes of 100 bytes, then RSS of
  each member, the newest snapshot's size, and the time a SIGKILLed
  follower takes from its restart to serving (a session on it reads the
  last znode: `zkrs bench restart`).

ZooKeeper runs as Debian's zkServer.sh runs it (the JVM's default flags).
Prints both systems' medians over the rounds and zkrs / ZooKeeper, and
writes results.json and table.md into --out. Everything it starts it
SIGKILLs by PID at the end. No assertion on any figure: it measures.

    bench/compare.py                 # full: 3 rounds, 10 s loads, 1M znodes
    bench/compare.py --quick         # 1 round, 2 s loads, 20k znodes
    bench/compare.py --parts fanout  # only the watch fan-out
    bench/compare.py --parts populate --cfg snapshot.compression.method=snappy
                                     # a zoo.cfg key added for both systems
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("tests/ensemble", "tests/compat", "tests/faults"):
    sys.path.insert(0, os.path.join(ROOT, sub))

import ensharness  # noqa: E402
import zkens  # noqa: E402

CFG = {"tickTime": 2000, "initLimit": 10, "syncLimit": 5,
       "maxClientCnxns": 0}  # 1,000 watching sessions come from one address
LOADS = [("get", 16, 16), ("set", 16, 16), ("create", 16, 16),
         ("get", 1, 1), ("set", 1, 1), ("create", 1, 1)]


def log(msg):
    print("[compare %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def zkrs_bin():
    return ensharness.zkrs_bin()


def bench_cmd(*argv):
    return [zkrs_bin(), "bench", *argv, "--json", "-", "--quiet"]


def bench_report(cmd, returncode, stdout, stderr):
    """The JSON report of a finished `zkrs bench` (after its table line)."""
    if returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), stderr.strip()[-2000:]))
    return json.loads(stdout[stdout.index("{"):])


def bench(args, *argv, timeout=900):
    """Runs `zkrs bench ...` and returns its JSON report."""
    cmd = bench_cmd(*argv)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return bench_report(cmd, out.returncode, out.stdout, out.stderr)


def make_ensemble(system, workdir):
    os.makedirs(workdir, exist_ok=True)
    if system == "zkrs":
        return ensharness.Ensemble(3, 0, extra_cfg=CFG, base_ip=101, workdir=workdir)
    return zkens.ZkEnsemble(3, extra_cfg=CFG, base_ip=111, workdir=workdir, jvm_flags=[])


def rss_mb(pid, field="VmRSS"):
    """Resident memory of `pid` now (VmRSS) or at its peak (VmHWM), in MB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return None


def newest_snapshot_mb(system, member):
    if system == "zkrs":
        d = os.path.join(member.data_dir, "zkrs", "snapshots")
    else:
        d = os.path.join(member.data_dir, "version-2")
    files = [os.path.join(d, f) for f in os.listdir(d) if system == "zkrs" or f.startswith("snapshot.")]
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        return None
    return os.path.getsize(max(files, key=os.path.getmtime)) / 1e6


def restart_to_serving(ens, member, last_path):
    """SIGKILL `member`, start it again, and time until a session on it
    reads `last_path` (`zkrs bench restart`, started just before it)."""
    member.kill()
    member.wait_port_free()
    cmd = bench_cmd("restart", "--hosts", member.hostport, "--path", last_path,
                    "--timeout-s", "300")
    probe = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        member.start()
        out, err = probe.communicate(timeout=330)
    finally:
        if probe.poll() is None:
            probe.kill()
    return bench_report(cmd, probe.returncode, out, err)["serving_s"]


def run_system(system, args, rnd):
    """One round of one system: the loads and the fan-out on one fresh
    ensemble, the populate on another, so that the figures "with 1M znodes"
    count those znodes only (the create loads add as many again as each
    system creates in their time)."""
    res = {"system": system, "round": rnd}
    if "load" in args.parts or "fanout" in args.parts:
        on_fresh_ensemble(system, args, rnd, "loads", lambda ens: loads_and_fanout(ens, system, args, rnd, res))
    if "populate" in args.parts:
        on_fresh_ensemble(system, args, rnd, "populate", lambda ens: populate(ens, system, args, rnd, res))
    return res


def on_fresh_ensemble(system, args, rnd, part, run):
    workdir = os.path.join(args.out, "%s-r%d-%s" % (system, rnd, part))
    ens = make_ensemble(system, workdir)
    try:
        ens.start(timeout=120)
        run(ens)
    finally:
        ens.cleanup()
        if not os.environ.get("ZK_KEEP_WORKDIR"):
            shutil.rmtree(workdir, ignore_errors=True)


def loads_and_fanout(ens, system, args, rnd, res):
    follower = ens.followers(at_least=1)[0]
    for op, sessions, inflight in (LOADS if "load" in args.parts else []):
        hosts = ens.connect_string() if sessions > 1 else follower.hostport
        r = bench(args, "load", "--hosts", hosts, "--op", op, "--sessions", str(sessions),
                  "--inflight", str(inflight), "--duration", str(args.duration),
                  "--warmup", str(args.warmup), "--value-size", "100",
                  "--root", "/bench-%s-%d" % (op, sessions))
        key = "%s_%dx%d" % (op, sessions, inflight)
        res[key] = r
        log("%s round %d %-14s %9.0f ops/s  p50 %6d us  p99 %6d us  errors %d" % (
            system, rnd, key, r["ops_per_s"], r["latency_us"]["p50"],
            r["latency_us"]["p99"], r["errors"]))
    if "fanout" in args.parts:
        r = bench(args, "fanout", "--hosts", ens.connect_string(), "--watchers", str(args.watchers),
                  "--rounds", str(args.fanout_rounds), "--root", "/bench-fanout")
        res["fanout"] = r
        log("%s round %d fanout %d watchers: median %.2f ms (read by the load generator: %.2f ms)" % (
            system, rnd, args.watchers, r["median_ms"], r["read_median_ms"]))


def populate(ens, system, args, rnd, res):
    follower = ens.followers(at_least=1)[0]
    r = bench(args, "populate", "--hosts", ens.connect_string(), "--count", str(args.populate),
              "--root", "/bench-pop", timeout=3600)
    res["populate"] = r
    time.sleep(2)  # let followers apply the tail
    res["rss_mb"] = [round(rss_mb(m.proc.pid), 1) for m in ens.members]
    res["peak_rss_mb"] = [round(rss_mb(m.proc.pid, "VmHWM"), 1) for m in ens.members]
    res["snapshot_mb"] = newest_snapshot_mb(system, follower)
    log("%s round %d populate %d: %.0f creates/s, RSS %s MB (peak %s), snapshot %s MB" % (
        system, rnd, args.populate, r["creates_per_s"], res["rss_mb"], res["peak_rss_mb"],
        res["snapshot_mb"]))
    n = args.populate - 1
    last = "/bench-pop/pop/p%05d/n%03d" % (n // 1000, n % 1000)
    res["restart_s"] = round(restart_to_serving(ens, follower, last), 2)
    log("%s round %d restart to serving: %.2f s" % (system, rnd, res["restart_s"]))


FIGURES = [  # (label, getter, better)
    *[("%s %dx%d ops/s" % (op, s, i), (lambda r, k="%s_%dx%d" % (op, s, i): r[k]["ops_per_s"]), "higher")
      for op, s, i in LOADS if s > 1],
    *[("%s %dx%d %s us" % (op, s, i, p), (lambda r, k="%s_%dx%d" % (op, s, i), p=p: r[k]["latency_us"][p]),
       "lower") for op, s, i in LOADS for p in ("p50", "p99")],
    ("fanout median ms", lambda r: r["fanout"]["median_ms"], "lower"),
    ("fanout read by the load generator, median ms", lambda r: r["fanout"]["read_median_ms"], "lower"),
    ("populate creates/s", lambda r: r["populate"]["creates_per_s"], "higher"),
    ("RSS per member MB (median)", lambda r: statistics.median(r["rss_mb"]), "lower"),
    ("peak RSS per member MB (median)", lambda r: statistics.median(r["peak_rss_mb"]), "lower"),
    ("newest snapshot MB", lambda r: r["snapshot_mb"], "lower"),
    ("restart to serving s", lambda r: r["restart_s"], "lower"),
]


def value(get, result):
    """A figure of one round; None when its part was not run."""
    try:
        return get(result)
    except KeyError:
        return None


def table(results, systems):
    rows = []
    for label, get, better in FIGURES:
        med = {}
        for s in systems:
            vals = [value(get, r) for r in results if r["system"] == s]
            vals = [v for v in vals if v is not None]
            med[s] = statistics.median(vals) if vals else None
        ratio = (med["zkrs"] / med["apache"]
                 if len(systems) == 2 and med.get("apache") and med.get("zkrs") is not None else None)
        rows.append((label, med, ratio, better))
    return rows


def render(rows, systems):
    head = "| figure | " + " | ".join({"zkrs": "zkrs", "apache": "ZooKeeper"}[s] for s in systems)
    head += " | zkrs / ZK |" if len(systems) == 2 else " |"
    lines = [head, "|" + " --- |" * (len(systems) + 1 + (len(systems) == 2))]
    for label, med, ratio, better in rows:
        if all(med[s] is None for s in systems):
            continue  # a part not run
        cells = ["%.4g" % med[s] if med[s] is not None else "-" for s in systems]
        line = "| %s | %s |" % (label, " | ".join(cells))
        if len(systems) == 2:
            line += " %s |" % ("%.2f (%s is better)" % (ratio, better) if ratio is not None else "-")
        lines.append(line)
    return "\n".join(lines)


def machine():
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    return "%s cores, %.0f GiB, %s" % (cpu, mem, os.uname().release)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--populate", type=int, default=1000000)
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--fanout-rounds", type=int, default=10)
    ap.add_argument("--systems", default="zkrs,apache")
    ap.add_argument("--parts", default="load,fanout,populate",
                    help="which parts to run (populate includes RSS, snapshot size and restart)")
    ap.add_argument("--quick", action="store_true", help="1 round, 2 s loads, 20k znodes, 100 watchers")
    ap.add_argument("--out", default="/tmp/zkrs-compare")
    ap.add_argument("--cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="a zoo.cfg line for both systems' members (repeatable)")
    args = ap.parse_args()
    for line in args.cfg:
        key, sep, val = line.partition("=")
        if not sep or not key:
            ap.error("--cfg wants KEY=VALUE, got %r" % line)
        CFG[key] = val
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2.0, 0.5
        args.populate, args.watchers, args.fanout_rounds = 20000, 100, 3
    systems = args.systems.split(",")
    args.parts = args.parts.split(",")
    os.makedirs(args.out, exist_ok=True)
    results = []
    started = time.monotonic()
    for rnd in range(args.rounds):
        order = systems if rnd % 2 == 0 else list(reversed(systems))
        for s in order:
            results.append(run_system(s, args, rnd))
    rows = table(results, systems)
    md = render(rows, systems)
    meta = {"machine": machine(), "command": " ".join(sys.argv), "rounds": args.rounds,
            "duration_s": args.duration, "populate": args.populate, "watchers": args.watchers,
            "run_s": round(time.monotonic() - started, 1)}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(md + "\n")
    print("machine: %s; medians of %d round(s); %s" % (meta["machine"], args.rounds, meta["command"]))
    print(md)
    errors = sum(r[k]["errors"] for r in results for k in r if isinstance(r[k], dict) and "errors" in r[k])
    print("request errors during the loads: %d" % errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
