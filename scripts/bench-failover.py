#!/usr/bin/env python3
"""Time from a leader SIGKILL to the next acknowledged write, zkrs next to
Apache ZooKeeper 3.8, on 3-member ensembles with the same zoo.cfg.

One kazoo client with every member in its connect string does one create
at a time; each round SIGKILLs the leader, measures until the client's next
create is acknowledged, restarts the killed member and waits until the
ensemble serves again. The systems alternate round by round. Prints every
sample and the medians. A measurement, not an assertion.

    ZKRS_BIN=target/debug/zkrs .venv/bin/python scripts/bench-failover.py \\
        [--rounds 10] [--tick 2000] [--systems zkrs,apache]
"""

import argparse
import logging
import os
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "ensemble"))
sys.path.insert(0, os.path.join(ROOT, "tests", "faults"))

from ensharness import Ensemble  # noqa: E402
from ensutil import kill_leader_to_next_ack  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402


def make_ensemble(system, tick):
    cfg = {"tickTime": tick, "syncLimit": 5, "initLimit": 10}
    if system == "zkrs":
        return Ensemble(3, 0, extra_cfg=cfg, base_ip=int(os.environ.get("FAILOVER_ZKRS_BASE", "91")))
    import zkens
    return zkens.ZkEnsemble(3, extra_cfg=cfg, base_ip=int(os.environ.get("FAILOVER_APACHE_BASE", "95")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--tick", type=int, default=2000)
    ap.add_argument("--systems", default="zkrs,apache")
    args = ap.parse_args()
    logging.getLogger("kazoo").setLevel(logging.ERROR)
    systems = args.systems.split(",")
    ensembles, clients, samples = {}, {}, {s: [] for s in systems}
    try:
        for s in systems:
            ensembles[s] = make_ensemble(s, args.tick).start(timeout=90)
            zk = KazooClient(hosts=ensembles[s].connect_string(), timeout=10.0)
            zk.start(timeout=30)
            zk.ensure_path("/failover")
            clients[s] = zk
        for r in range(args.rounds):
            for s in systems:
                dt = kill_leader_to_next_ack(ensembles[s], clients[s], "/failover")
                samples[s].append(dt)
                print("round %d %-6s kill -> next acked write: %s" % (
                    r + 1, s, "%.3f s" % dt if dt is not None else "none in 60 s"), flush=True)
    finally:
        for zk in clients.values():
            try:
                zk.stop()
                zk.close()
            except Exception:  # noqa: BLE001
                pass
        for e in ensembles.values():
            e.cleanup()
    print("\ntickTime=%d, %d rounds, one writer, one request at a time" % (args.tick, args.rounds))
    for s in systems:
        ok = [x for x in samples[s] if x is not None]
        med = statistics.median(ok) if ok else float("nan")
        print("%-6s median %.3f s, min %.3f s, max %.3f s, no ack in 60 s: %d" % (
            s, med, min(ok or [0]), max(ok or [0]), len(samples[s]) - len(ok)))


if __name__ == "__main__":
    main()
