"""The AdminServer and the Prometheus endpoint of a 3-member ensemble under
load, scraped over real HTTP: every member names the same leader, the
voting view lists the members, and `/metrics` carries ZooKeeper's metric
names (the `mntr` names without `zk_`, as its PrometheusMetricsProvider
exports them) with values that follow the load."""

import json
import re
import threading
import time
import urllib.request

import pytest
from kazoo.exceptions import AuthFailedError

from ensharness import free_ports, wait_until
from ensutil import member_client

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"


def http(member, port, path):
    url = "http://%s:%d%s" % (member.ip, port, path)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def command(member, name):
    return json.loads(http(member, member.admin_port, "/commands/" + name))


def scrape(member):
    """{sample name with labels: value} from the text exposition."""
    out = {}
    for line in http(member, member.metrics_port, "/metrics").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


@pytest.fixture
def ensemble(ensemble_factory):
    ens = ensemble_factory(3, start=False)
    for m in ens.members:
        m.admin_port, m.metrics_port = free_ports(m.ip, 2)
        m.extra_cfg.update({
            "admin.enableServer": "true",
            "admin.serverAddress": m.ip,
            "admin.serverPort": str(m.admin_port),
            "metricsProvider.className": PROMETHEUS,
            "metricsProvider.httpHost": m.ip,
            "metricsProvider.httpPort": str(m.metrics_port),
        })
    ens.start()
    return ens


def load(zk, stop, counts):
    """Writes and reads until stopped (bounded by the caller's timeout)."""
    i = 0
    while not stop.is_set() and i < 20000:
        path = "/load/n%d" % (i % 50)
        zk.set(path, b"v%d" % i) if zk.exists(path) else zk.create(path, b"", makepath=True)
        zk.get(path)
        counts["ops"] += 2
        i += 1


@pytest.mark.timeout(120)
def test_admin_and_metrics_of_an_ensemble_under_load(ensemble, clients):
    ens = ensemble
    leader = ens.leader()
    zk = clients(ens.connect_string())
    stop, counts = threading.Event(), {"ops": 0}
    worker = threading.Thread(target=load, args=(zk, stop, counts), daemon=True)
    worker.start()
    try:
        wait_until(lambda: counts["ops"] > 400, 30, what="some load")
        for m in ens.members:
            lead = command(m, "leader")
            assert lead["error"] is None
            assert lead["leader_id"] == leader.id
            assert lead["is_leader"] == (m is leader)
            view = command(m, "voting_view")["current_config"]
            assert sorted(view) == sorted(str(x.id) for x in ens.members)
            assert view[str(m.id)]["server_addresses"] == ["%s:%d" % (m.ip, m.peer_port)]
            zab = command(m, "zabstate")
            assert zab["zabstate"] == "broadcast" and zab["voting"] is True and zab["myid"] == m.id
            stats = command(m, "server_stats")["server_stats"]
            assert stats["server_state"] == ("leader" if m is leader else "follower")

        mon = command(leader, "monitor")
        assert mon["synced_followers"] == 2 and mon["quorum_size"] == 2
        first = scrape(leader)
        time.sleep(1.0)
        second = scrape(leader)
    finally:
        stop.set()
        worker.join(30)

    # ZooKeeper's names, as its Prometheus provider writes them.
    for name in ("znode_count", "watch_count", "global_sessions", "outstanding_requests",
                 "num_alive_connections", "ephemerals_count", "approximate_data_size",
                 "quorum_size", "synced_followers", "learners", "commit_count",
                 "looking_count", "readlatency_count", "readlatency_sum",
                 "updatelatency_count", 'updatelatency_bucket{le="+Inf"}'):
        assert name in second, name
    # zkrs's own: lags and per-op latency.
    assert "apply_lag" in second
    assert len([k for k in second if k.startswith("learner_lag{")]) == 2
    # The client's member (whichever it is) timed its requests per opcode.
    everyone = [scrape(m) for m in ens.members]
    for op in ("setData", "getData"):
        key = 'request_latency_count{op="%s"}' % op
        assert sum(s.get(key, 0) for s in everyone) > 0, key
    # The figures move with the load.
    assert second["commit_count"] > first["commit_count"]
    assert sum(s["updatelatency_count"] for s in everyone) > 100
    assert second["znode_count"] >= 50
    # A follower counts the commits it applied too, and its log's fsyncs.
    follower = [m for m in ens.members if m is not leader][0]
    assert scrape(follower)["commit_count"] > 0
    # Every write was fsynced on the leader: one group fsync covers one
    # flush or more, and takes more than nothing.
    assert second["fsynctime_count"] > first["fsynctime_count"]
    assert 0 < second["fsynctime_sum"]
    assert second["sync_processor_batch_size_sum"] >= second["fsynctime_count"]
    assert scrape(follower)["fsynctime_count"] > 0
    # The leader has led for a while; a follower has no such figure.
    assert second["leader_uptime"] > first["leader_uptime"] > 0
    assert "leader_uptime" not in scrape(follower)
    for name in ("auth_failed_count", "stale_sessions_expired"):
        assert name in second, name
    # mntr carries the summaries as ZooKeeper's does.
    words = follower.fourlw("mntr")
    for key in ("zk_commit_count", "zk_avg_updatelatency", "zk_p99_readlatency", "zk_cnt_readlatency",
                "zk_proposal_count", "zk_connection_request_count", "zk_bytes_received_count",
                "zk_response_bytes", "zk_unsuccessful_handshake", "zk_connection_rejected",
                "zk_cnt_node_changed_watch_count", "zk_p50_unavailable_time", "zk_avg_fsynctime",
                "zk_max_sync_processor_batch_size"):
        assert re.search(r"^%s\t" % key, words, re.M), key
    # A data watch firing is counted on the member of its connection.
    watcher = member_client(follower)
    fired = threading.Event()
    watcher.create("/watched", b"0")
    watcher.get("/watched", watch=lambda e: fired.set())
    zk.set("/watched", b"1")
    assert fired.wait(10)
    fired_once = scrape(follower)["node_changed_watch_count_count"]
    assert fired_once >= 1
    # A change no watcher waits for is not counted (as in ZooKeeper,
    # whose summary takes only changes that fired a watch).
    zk.set("/watched", b"2")
    wait_until(lambda: watcher.get("/watched")[0] == b"2", 10, what="the follower applied the set")
    assert scrape(follower)["node_changed_watch_count_count"] == fired_once
    watcher.stop()

    # A refused authentication is counted where it was refused.
    bad = member_client(follower)
    with pytest.raises(AuthFailedError):
        bad.add_auth("no-such-scheme", "x")
    bad.stop()
    assert scrape(follower)["auth_failed_count"] >= 1

    # An election shows in the survivors' looking_count and election_time.
    leader.kill()
    new = ens.leader(exclude=(leader,))
    wait_until(lambda: scrape(new)["election_time_count"] >= 1, 20, what="election_time recorded")
    after = scrape(new)
    assert after["looking_count"] >= 1
    assert 0 < after["election_time_sum"] < 20000
    assert command(new, "leader")["leader_id"] == new.id


def test_a_taken_admin_port_does_not_stop_the_member(ensemble_factory, clients):
    ens = ensemble_factory(1, start=False)
    m = ens.members[0]
    # The client port of the member itself: taken once it runs.
    m.extra_cfg.update({"admin.enableServer": "true", "admin.serverAddress": m.ip,
                        "admin.serverPort": str(m.client_port)})
    ens.start()
    zk = clients(m.hostport)
    zk.create("/still-serving", b"")
    assert "cannot start the admin server" in m.log_tail(200)
