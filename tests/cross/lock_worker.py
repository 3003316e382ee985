"""One Python contender of test_cross_lock.py: increments /xlock/n COUNT
times, each time inside the shared lock /xlock/lock, by a plain read and a
plain write (no version check: only the lock keeps increments from being
lost).

    python lock_worker.py HOSTS COUNT ID

A write whose reply is lost (ConnectionLoss, a member died) is sent again
with the same value: while we hold the lock nobody else writes, so setting
n+1 twice is the same as once. Prints one JSON line and exits 0, or 1 on
an error it cannot ride out (the session expired: the lock was lost)."""

import json
import sys
import time

import zkrs


def retry(call, *args):
    for _ in range(600):
        try:
            return call(*args)
        except (zkrs.ConnectionLoss, zkrs.OperationTimeoutError):
            time.sleep(0.05)
    raise RuntimeError("no connection for 30 s")


def main():
    hosts, count, ident = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    zk = zkrs.Client(hosts, timeout=10.0)
    zk.start(timeout=20)
    lock = zk.Lock("/xlock/lock", ident)
    for _ in range(count):
        lock.acquire()
        value, _ = retry(zk.get, "/xlock/n")
        retry(zk.set, "/xlock/n", str(int(value) + 1).encode())
        if not lock.is_acquired:
            raise RuntimeError("lock lost inside the critical section")
        lock.release()
    zk.stop()
    print(json.dumps({"id": ident, "done": count}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the test, which fails
        print(json.dumps({"id": sys.argv[3], "error": repr(e)}))
        sys.exit(1)
