"""3b. Read-only mode: with `readonlymode.enabled=true`, a member cut off
from its quorum serves clients that ask for read-only sessions (reads
work, writes get NotReadOnly), refuses ordinary sessions, and drops its
read-only clients once it has a leader again (they come back read-write)."""

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError

from ensharness import wait_until


@pytest.mark.timeout(120)
def test_minority_member_serves_read_only_clients(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg={"readonlymode.enabled": "true"})
    admin = clients(ens.connect_string())
    admin.create("/ro", b"before")
    leader = ens.leader()
    survivor = [m for m in ens.members if m is not leader][0]
    # Through the survivor itself: a sync elsewhere does not say the
    # survivor has applied /ro before its quorum goes (read-only mode may
    # serve stale data, as ZooKeeper's does).
    own = clients(survivor.hostport)
    own.sync("/ro")
    assert own.get("/ro")[0] == b"before"
    wait_until(lambda: survivor.fourlw("isro").strip() == "rw", 10, what="survivor is read-write")

    # Two of three gone: the survivor has no quorum.
    for m in ens.members:
        if m is not survivor:
            m.kill()
    wait_until(lambda: survivor.fourlw("isro").strip() == "ro", 20, what="survivor in read-only mode")
    assert "Mode: read-only" in survivor.fourlw("srvr")

    ro = KazooClient(hosts=survivor.hostport, timeout=4.0, read_only=True)
    try:
        ro.start(timeout=15)
        assert ro.client_state == "CONNECTED_RO"
        assert ro.get("/ro")[0] == b"before"
        with pytest.raises(NotReadOnlyCallError):
            ro.create("/ro/new", b"x")
        # An ordinary (read-write) session is refused.
        rw = KazooClient(hosts=survivor.hostport, timeout=2.0)
        with pytest.raises(Exception):
            rw.start(timeout=3)
        rw.close()

        # The quorum comes back: the member leaves read-only mode.
        for m in ens.members:
            if m is not survivor:
                m.restart()
        wait_until(lambda: survivor.fourlw("isro").strip() == "rw", 30, what="survivor read-write again")
        ens.wait_serving(30)
        zk = clients(survivor.hostport)
        zk.create("/ro/after", b"x")
        assert zk.get("/ro")[0] == b"before"
    finally:
        ro.stop()
        ro.close()
