"""Leader election with 5 candidates in separate processes (zkrs Election):
never two leaders at once, checked on the recorded tenures (CLOCK_MONOTONIC
is one clock for every process on the machine), and a new leader after the
leader's process is SIGKILLed and its session expires.

Each candidate leads for HOLD seconds and steps down, except the first
leader, which is killed while it leads: its lock node stays until the
member expires its session (4 s timeout), and only then may the next one
lead."""

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import zkrs

HERE = Path(__file__).resolve().parent
CANDIDATES = 5
HOLD = 0.5
SESSION_S = 4.0


def reader(proc, name, out):
    for line in proc.stdout:
        if line.startswith("{"):
            out.put((name, json.loads(line)))


@pytest.mark.timeout(120)
def test_five_candidates_never_two_leaders_and_expiry_hands_over():
    events = queue.Queue()
    with zkrs.Member(tick_time=500) as member:
        procs = {}
        for i in range(CANDIDATES):
            name = "c%d" % i
            p = subprocess.Popen(
                [sys.executable, str(HERE / "election_candidate.py"),
                 member.connect_string, name, str(HOLD)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs[name] = p
            threading.Thread(target=reader, args=(p, name, events), daemon=True).start()
        try:
            tenures = {}  # name -> [start, end]
            killed = None
            deadline = time.monotonic() + 90
            while len([t for t in tenures.values() if t[1] is not None]) < CANDIDATES:
                assert time.monotonic() < deadline, "election stalled: %s" % tenures
                try:
                    name, ev = events.get(timeout=1)
                except queue.Empty:
                    continue
                if "lead" in ev:
                    tenures[name] = [ev["t"], None]
                    if killed is None:
                        # The first leader dies while leading; its tenure
                        # ends when it is killed (it can do nothing after).
                        procs[name].kill()
                        procs[name].wait(5)
                        killed = (name, time.monotonic())
                        tenures[name][1] = killed[1]
                elif "end" in ev and name != (killed or ("",))[0]:
                    tenures[name][1] = ev["t"]
            for name, p in procs.items():
                if name != killed[0]:
                    assert p.wait(20) == 0, p.stderr.read()
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
    spans = sorted(tenures.values())
    print("tenures:", ["%.3f-%.3f" % (a, b) for a, b in spans])
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert a1 <= b0, "two leaders at once: %.3f-%.3f and %.3f-%.3f" % (a0, a1, b0, b1)
    handover = spans[1][0] - killed[1]
    print("next leader %.2f s after the leader was killed (session timeout %.1f s)"
          % (handover, SESSION_S))
    # Not before the killed leader's session is gone, and promptly after.
    assert 0.5 * SESSION_S <= handover <= SESSION_S + 5, handover
