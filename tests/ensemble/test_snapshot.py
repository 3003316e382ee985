"""5. A member with an empty data dir joins and gets the state by snapshot."""

import os
import subprocess

import pytest

from ensharness import wait_until, zkrs_bin
from ensutil import Writer, tree_on


def _wipe_and_write(ens, clients, victim, n):
    admin = clients(ens.connect_string([m for m in ens.members if m is not victim]))
    admin.create("/snap")
    for i in range(20):
        admin.create("/snap/before-%02d" % i, b"b%d" % i)
    victim.kill()
    victim.wipe_data()
    assert sorted(os.listdir(victim.data_dir)) == ["myid"]
    w = Writer(admin, "w", "/snap/n-", limit=n)
    w.start()
    w.join(90)
    assert not w.is_alive() and len(w.acked) == n and not w.unknown, (w.unknown, w.errors)
    return admin


def compression_of(member):
    """The method of the member's newest snapshot, as `zkrs snapshot inspect`
    reads it from the file's header."""
    out = subprocess.run([zkrs_bin(), "snapshot", "inspect", member.data_dir],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("compression ", 1)[1].split(")", 1)[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["", "snappy"])
def test_empty_member_gets_state_by_snapshot(ensemble_factory, clients, method):
    """snapCount=50 and 400 writes while the member is gone: the leader has
    compacted its log, so the wiped member can only get the state by
    snapshot. (The leader is restarted before the member returns, so that it
    has no memory of the member's old log: test_wiped_follower_does_not_
    crash_leader is the case where it has.) With snapshots compressed, the
    leader reads its own back to send them, and the member writes what it
    gets compressed as well."""
    extra = {"snapCount": 50}
    if method:
        extra["snapshot.compression.method"] = method
    ens = ensemble_factory(3, extra_cfg=extra)
    leader = ens.leader()
    victim = [m for m in ens.members if m is not leader][0]
    admin = _wipe_and_write(ens, clients, victim, 400)
    ls = leader.snapshot_files()
    assert ls, "the leader wrote no snapshot with snapCount=50"
    leader.restart()
    ens.wait_serving(30, members=[m for m in ens.members if m is not victim])

    victim.start()
    wait_until(lambda: victim.serving(), 30, what="wiped member serving")
    ens.wait_serving(30)
    ref = tree_on(ens.leader(), "/snap")
    assert len(ref) == 420
    assert tree_on(victim, "/snap") == ref
    snaps = victim.snapshot_files()
    assert snaps, "no snapshot in %s/zkrs/snapshots after joining" % victim.data_dir
    print("leader snapshots %s, joined member snapshots %s" % (ls, snaps))
    assert compression_of(victim) == compression_of(ens.leader()) == (method or "none")
    admin.create("/snap/after", b"a")  # later writes reach it too
    assert tree_on(victim, "/snap")["after"] == b"a"


@pytest.mark.timeout(90)
def test_wiped_follower_does_not_crash_leader(ensemble_factory, clients):
    ens = ensemble_factory(3, extra_cfg={"snapCount": 50})
    leader = ens.leader()
    victim = [m for m in ens.members if m is not leader][0]
    _wipe_and_write(ens, clients, victim, 100)
    victim.start()
    wait_until(lambda: victim.serving(), 30, what="wiped member serving")
    ens.wait_serving(20)
    assert leader.mode() == "leader", ens.modes()
    with open(leader.log_path, errors="replace") as f:
        log = f.read()
    assert "panicked" not in log, log[log.index("panicked") - 300:log.index("panicked") + 300]
    ref = tree_on(leader, "/snap")
    assert tree_on(victim, "/snap") == ref
