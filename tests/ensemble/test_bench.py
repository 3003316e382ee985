"""`zkrs bench`, the load generator behind bench/compare.py, against a
3-member ensemble: each mode does what it reports, checked through
another client."""

import json
import subprocess
import time

import pytest
from kazoo.client import KazooClient

from ensharness import zkrs_bin


def bench(*argv, timeout=120):
    out = run_bench(*argv, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return report(out.stdout)


def run_bench(*argv, timeout=120):
    cmd = [zkrs_bin(), "bench", *argv, "--json", "-", "--quiet"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def report(stdout):
    """The JSON report (after the table line)."""
    return json.loads(stdout[stdout.index("{"):])


@pytest.fixture
def ens(ensemble_factory):
    return ensemble_factory()


@pytest.fixture
def zk(ens):
    c = KazooClient(hosts=ens.connect_string(), timeout=10)
    c.start(timeout=30)
    yield c
    c.stop()
    c.close()


@pytest.mark.timeout(120)
def test_load_creates_as_many_znodes_as_it_counts(ens, zk):
    r = bench("load", "--hosts", ens.connect_string(), "--op", "create", "--sessions", "2",
              "--inflight", "4", "--duration", "1", "--warmup", "0", "--root", "/b")
    assert r["errors"] == 0 and r["ops"] > 0
    made = len(zk.get_children("/b/create"))
    # Counted ops are the replies within the duration; the last few in
    # flight may land after it.
    assert r["ops"] <= made <= r["ops"] + 2 * 4
    lat = r["latency_us"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("op", ["set", "get", "exists", "mixed"])
def test_load_of_each_op_runs_without_errors(ens, zk, op):
    r = bench("load", "--hosts", ens.connect_string(), "--op", op, "--sessions", "2",
              "--inflight", "2", "--duration", "0.5", "--warmup", "0", "--keys", "10",
              "--root", "/b-" + op)
    assert r["op"] == op and r["errors"] == 0 and r["ops"] > 0
    keys = ["/b-%s/keys/%s" % (op, k) for k in zk.get_children("/b-%s/keys" % op)]
    assert len(keys) == 10
    writes = sum(zk.exists(k).version for k in keys)
    if op == "set":
        assert r["ops"] <= writes <= r["ops"] + 2 * 2
    elif op == "mixed":
        assert 0 < writes < r["ops"] + 2 * 2
    else:
        assert writes == 0


@pytest.mark.timeout(120)
def test_populate_creates_each_znode_once(ens, zk):
    cs = ens.connect_string()
    r = bench("populate", "--hosts", cs, "--count", "1500", "--root", "/p")
    assert (r["created"], r["existed"]) == (1500, 0)
    parents = sorted(zk.get_children("/p/pop"))
    assert [len(zk.get_children("/p/pop/" + p)) for p in parents] == [1000, 500]
    again = bench("populate", "--hosts", cs, "--count", "1500", "--root", "/p")
    assert (again["created"], again["existed"]) == (0, 1500)


@pytest.mark.timeout(120)
def test_fanout_times_every_round_and_member(ens):
    r = bench("fanout", "--hosts", ens.connect_string(), "--watchers", "30", "--rounds", "3",
              "--root", "/f")
    assert r["watchers"] == 30 and r["rounds"] == 3 and len(r["rounds_ms"]) == 3
    assert all(t > 0 for t in r["rounds_ms"])
    assert r["min_ms"] <= r["median_ms"] <= r["max_ms"]
    assert len(r["member_first_ms"]) == 3
    assert all(f <= l for f, l in zip(r["member_first_ms"], r["member_last_ms"]))


@pytest.mark.timeout(120)
def test_restart_waits_until_the_member_serves_again(ens, zk):
    zk.create("/restart-mark", b"x")
    member = ens.followers()[0]
    member.kill()
    member.wait_port_free()
    cmd = [zkrs_bin(), "bench", "restart", "--hosts", member.hostport, "--path",
           "/restart-mark", "--timeout-s", "60", "--json", "-", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        down = 1.0
        time.sleep(down)
        member.start()
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    r = report(out)
    assert r["host"] == member.hostport and r["path"] == "/restart-mark"
    assert down <= r["serving_s"] < down + 30 and r["attempts"] >= 1


@pytest.mark.timeout(60)
def test_restart_gives_up_on_a_znode_that_never_comes(ens):
    out = run_bench("restart", "--hosts", ens.members[0].hostport, "--path", "/never",
                    "--timeout-s", "1")
    assert out.returncode != 0
    assert "did not serve /never within 1 s" in out.stderr


def test_restart_needs_exactly_one_host(ens):
    out = run_bench("restart", "--hosts", ens.connect_string(), "--path", "/x")
    assert out.returncode != 0
    assert "--hosts must name the one member" in out.stderr
