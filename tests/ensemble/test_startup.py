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
