#!/usr/bin/env python3
"""Config watcher: one process updates a config znode, another reacts.

    python config_watcher.py                 # runs the whole demo
    python config_watcher.py --hosts H:P     # watch an existing ensemble
    python config_watcher.py --hosts H:P --update N   # be the updater

With no --hosts it starts a zkrs member inside this process, launches
itself as the updater in a second process, and prints every config the
watcher sees until the updater's last one arrives.
"""

import argparse
import json
import queue
import subprocess
import sys
import time

import zkrs

PATH = "/app/config"


def update(hosts, count):
    """Writes `count` new configs, one every 100 ms."""
    with zkrs.Client(hosts) as zk:
        zk.ensure_path(PATH)
        for n in range(1, count + 1):
            cfg = {"generation": n, "workers": 2 * n, "final": n == count}
            zk.set(PATH, json.dumps(cfg).encode())
            time.sleep(0.1)
    return 0


def watch(hosts, updates):
    """Reacts to each change of the config until the final one."""
    seen = queue.Queue()
    with zkrs.Client(hosts) as zk:
        zk.ensure_path(PATH)
        # A persistent watch: it stays after firing, so no change is lost
        # between re-registrations.
        zk.add_watch(PATH, lambda event: seen.put(event))
        updater = None
        if updates:
            updater = subprocess.Popen(
                [sys.executable, __file__, "--hosts", hosts, "--update", str(updates)]
            )
        applied = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                event = seen.get(timeout=1)
            except queue.Empty:
                continue
            if event.type != zkrs.EventType.CHANGED:
                continue
            data, stat = zk.get(event.path)
            cfg = json.loads(data)
            applied += 1
            print(f"config v{stat.version}: {cfg['workers']} workers", flush=True)
            if cfg["final"]:
                break
        else:
            print("no final config within 30 s", file=sys.stderr)
            return 1
        if updater is not None and updater.wait(10) != 0:
            print("updater failed", file=sys.stderr)
            return 1
    print(f"applied {applied} config changes")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", help="connect string; default: an in-process zkrs member")
    ap.add_argument("--update", type=int, metavar="N", help="be the updater: write N configs")
    args = ap.parse_args()
    if args.update:
        return update(args.hosts, args.update)
    if args.hosts:
        return watch(args.hosts, 0)
    with zkrs.Member() as member:
        return watch(member.connect_string, 5)


if __name__ == "__main__":
    sys.exit(main())
