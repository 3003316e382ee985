"""Members of a new ensemble started at the same moment must all come up.

(Before main 176eaef a member that got a vote request before its own
raft.initialize() exited with "raft init: not allowed to initialize".)"""

import time

import pytest

from ensharness import Ensemble, wait_until


@pytest.mark.timeout(90)
def test_simultaneous_start_never_crashes():
    crashes = []
    for round_ in range(6):
        ens = Ensemble(5)
        try:
            for m in ens.members:
                m.start()
            # until every member serves or one exited
            wait_until(lambda: any(not m.alive() for m in ens.members)
                       or all(m.serving() for m in ens.members), 20, 0.1, "startup")
            for m in ens.members:
                if not m.alive():
                    crashes.append((round_, m.id, m.proc.returncode, m.log_tail(3)))
        finally:
            ens.cleanup()
        if crashes:
            break
        time.sleep(0.2)
    assert not crashes, "members exited during startup: %s" % crashes


DEFAULTS = {"tickTime": 2000, "initLimit": 10, "syncLimit": 5}


@pytest.mark.timeout(90)
def test_first_voter_started_early_leads_within_two_heartbeats():
    """The first voter of a new ensemble asks for votes as it starts; if
    the others are not up yet, it stands again two heartbeats later (832 ms
    at ZooKeeper's defaults) instead of waiting out an election timeout
    (1.7-3.3 s), as ZooKeeper's election keeps asking in its first second."""
    for _ in range(3):
        ens = Ensemble(3, extra_cfg=DEFAULTS)
        try:
            t0 = time.monotonic()
            ens.members[0].start()
            time.sleep(0.4)
            for m in ens.members[1:]:
                m.start()
            ens.wait_serving(30)
            took = time.monotonic() - t0
            assert ens.members[0].mode() == "leader", ens.modes()
            assert took < 1.6, "a leader only %.2f s after the first voter started" % took
        finally:
            ens.cleanup()
