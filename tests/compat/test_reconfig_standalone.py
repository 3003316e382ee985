"""reconfig on a standalone server: ReconfigDisabled unless reconfigEnabled,
then Unimplemented before any parsing or ACL check, as ZooKeeper answers
("standalone mode - reconfiguration currently not supported")."""

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ReconfigDisabledError, UnimplementedError

from zkharness import ZkServer


@pytest.mark.parametrize("enabled", [False, True])
def test_standalone_reconfig(enabled):
    srv = ZkServer()
    if enabled:
        with open(srv.cfg, "a") as f:
            f.write("reconfigEnabled=true\n")
    srv.start()
    c = KazooClient(hosts=srv.hostport, timeout=10)
    try:
        c.start(timeout=30)
        want = UnimplementedError if enabled else ReconfigDisabledError
        for joining, leaving in (("some thing", None), ("server.9=127.0.0.1:1:2", None), (None, "1")):
            with pytest.raises(want):
                c.reconfig(joining=joining, leaving=leaving, new_members=None)
    finally:
        c.stop()
        c.close()
        srv.cleanup()
