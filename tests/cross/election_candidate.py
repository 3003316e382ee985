"""One candidate of test_cross_election.py:
    python election_candidate.py HOSTS ID HOLD_SECONDS
Waits to be elected (zkrs Election, kazoo's layout), then prints
{"lead": ID, "t": <CLOCK_MONOTONIC>} and, every 50 ms while it leads,
{"tick": ID, "t": ...}; after HOLD_SECONDS prints {"end": ID, "t": ...},
steps down and exits 0."""

import json
import sys
import time

import zkrs


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    hosts, ident, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    zk = zkrs.Client(hosts, timeout=4.0)
    zk.start(timeout=20)
    say(ready=ident)

    def lead():
        say(lead=ident, t=time.monotonic())
        until = time.monotonic() + hold
        while time.monotonic() < until:
            say(tick=ident, t=time.monotonic())
            time.sleep(0.05)
        say(end=ident, t=time.monotonic())

    zk.Election("/xelect", ident).run(lead)
    zk.stop()


if __name__ == "__main__":
    main()
