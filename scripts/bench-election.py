#!/usr/bin/env python3
"""Election time after a leader SIGKILL in a 3-member zkrs ensemble.

10 rounds (or argv[1]): SIGKILL the leader; measure until another member
says `Mode: leader` (srvr) and accepts a write (a raw create, retried); then
restart the killed member and wait until it serves again. Prints every
sample and the medians. Not an assertion: a measurement.

    ZKRS_BIN=target/debug/zkrs .venv/bin/python scripts/bench-election.py [rounds]
"""

import os
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "ensemble"))

from ensharness import Ensemble, wait_until  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402


def try_write(member, path, timeout=2.0):
    zk = KazooClient(hosts=member.hostport, timeout=4.0)
    try:
        zk.start(timeout=timeout)
        zk.create_async(path, b"x").get(timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - not yet
        return False
    finally:
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001
            pass


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    ens = Ensemble(3, base_ip=int(os.environ.get("ZKRS_ENS_BENCH_BASE", "41")))
    leader_s, write_s, rejoin_s = [], [], []
    try:
        ens.start()
        print("ensemble %s, tickTime=200 ms" % ens.connect_string(), flush=True)
        for r in range(rounds):
            old = ens.leader(timeout=30)
            t0 = time.monotonic()
            old.kill()
            new = ens.leader(timeout=30, exclude=[old])
            t1 = time.monotonic()
            wait_until(lambda: try_write(new, "/bench-%d-%f" % (r, time.monotonic())), 30, 0.02,
                       "a write on the new leader")
            t2 = time.monotonic()
            old.wait_port_free()
            t3 = time.monotonic()
            old.start()
            wait_until(lambda: old.serving(), 60, 0.05, "member %d rejoins" % old.id)
            ens.wait_serving(30)
            t4 = time.monotonic()
            leader_s.append(t1 - t0)
            write_s.append(t2 - t0)
            rejoin_s.append(t4 - t3)
            print("round %2d: killed leader %d, new leader %d: Mode: leader after %6.3f s, "
                  "write accepted after %6.3f s; restarted member rejoined in %6.3f s"
                  % (r + 1, old.id, new.id, t1 - t0, t2 - t0, t4 - t3), flush=True)
        print("median over %d: new leader %.3f s, first write %.3f s, rejoin %.3f s"
              % (rounds, statistics.median(leader_s), statistics.median(write_s),
                 statistics.median(rejoin_s)))
    finally:
        ens.cleanup()


if __name__ == "__main__":
    main()
