"""The AdminServer (`admin.enableServer`, `admin.serverPort`, ...): every
ZooKeeper 3.8 command over real HTTP, by name and by alias, with the
fields ZooKeeper 3.8 returns. Runs against zkrs and Apache ZooKeeper alike
(`ZK_SERVER=apache` checks these expectations against the reference).
zkrs's Prometheus endpoint is in tests/ensemble/test_admin_metrics.py."""

import json
import urllib.request
import uuid

import pytest
from kazoo.client import KazooClient

from zkharness import HOST, ZkServer, free_port, four_letter

# Fields each command returns besides "command" and "error" (ZooKeeper
# 3.8.0 standalone, taken from its own answers).
FIELDS = {
    "configuration": {"client_port", "data_dir", "data_log_dir", "tick_time", "max_client_cnxns",
                      "min_session_timeout", "max_session_timeout", "server_id",
                      "client_port_listen_backlog"},
    "connection_stat_reset": set(),
    "connections": {"connections", "secure_connections"},
    "dirs": {"datadir_size", "logdir_size"},
    "dump": {"expiry_time_to_session_ids", "session_id_to_ephemeral_paths"},
    "get_trace_mask": {"tracemask"},
    "hash": {"digests"},
    "initial_configuration": {"initial_configuration"},
    "is_read_only": {"read_only"},
    "last_snapshot": {"zxid", "timestamp"},
    "observer_connection_stat_reset": set(),
    "observers": {"synced_observers", "observers"},
    "ruok": set(),
    "server_stats": {"version", "read_only", "server_stats", "client_response", "node_count"},
    "stat_reset": set(),
    "stats": {"version", "read_only", "server_stats", "client_response", "node_count",
              "connections", "secure_connections"},
    "voting_view": {"current_config"},
    "watch_summary": {"num_connections", "num_paths", "num_total_watches"},
    "watches": {"session_id_to_watched_paths"},
    "watches_by_path": {"path_to_session_ids"},
    "zabstate": {"voting", "zabstate"},
}
ALIASES = {"conf": "configuration", "crst": "connection_stat_reset", "cons": "connections",
           "envi": "environment", "gtmk": "get_trace_mask", "icfg": "initial_configuration",
           "isro": "is_read_only", "lsnp": "last_snapshot", "lead": "leader", "mntr": "monitor",
           "orst": "observer_connection_stat_reset", "obsr": "observers", "srvr": "server_stats",
           "stmk": "set_trace_mask", "srst": "stat_reset", "stat": "stats",
           "sysp": "system_properties", "wchs": "watch_summary", "wchc": "watches",
           "wchp": "watches_by_path"}
SERVER_STATS = {"packets_sent", "packets_received", "fsync_threshold_exceed_count",
                "client_response_stats", "data_dir_size", "log_dir_size", "provider_null",
                "server_state", "last_processed_zxid", "outstanding_requests", "avg_latency",
                "max_latency", "min_latency", "num_alive_client_connections", "auth_failed_count",
                "non_mtlsremote_conn_count", "non_mtlslocal_conn_count", "uptime"}
CONNECTION = {"remote_socket_address", "interest_ops", "outstanding_requests", "packets_received",
              "packets_sent", "session_id", "last_operation", "established", "session_timeout",
              "last_cxid", "last_zxid", "last_response_time", "last_latency", "min_latency",
              "avg_latency", "max_latency"}


@pytest.fixture(scope="module")
def server():
    srv = ZkServer()
    srv.admin_port = free_port()
    with open(srv.cfg, "a") as f:
        f.write("admin.enableServer=true\nadmin.serverAddress=%s\nadmin.serverPort=%d\n"
                % (HOST, srv.admin_port))
    srv.start()
    yield srv
    srv.cleanup()


def get(srv, path):
    url = "http://%s:%d%s" % (HOST, srv.admin_port, path)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return r.headers.get("Content-Type", ""), r.read().decode()


def command(srv, name):
    ctype, body = get(srv, "/commands/" + name)
    assert ctype.startswith("application/json"), ctype
    return json.loads(body)


@pytest.fixture
def zk(server):
    c = KazooClient(hosts=server.hostport, timeout=10)
    c.start(timeout=15)
    yield c
    c.stop()
    c.close()


def test_the_command_list_links_every_command(server):
    _, body = get(server, "/commands")
    for name in list(FIELDS) + ["environment", "leader", "monitor", "set_trace_mask",
                                "system_properties"]:
        assert '<a href="/commands/%s">%s</a>' % (name, name) in body


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_each_command_answers_with_zookeepers_fields(server, zk, name):
    base = "/admin-" + uuid.uuid4().hex[:6]
    zk.create(base, b"x")
    zk.create(base + "/eph", b"", ephemeral=True)
    zk.get(base, watch=lambda e: None)
    out = command(server, name)
    assert out.pop("command") == name
    assert out.pop("error") is None
    assert set(out) == FIELDS[name], sorted(set(out) ^ FIELDS[name])


@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_four_letter_aliases_run_the_command(server, alias, name):
    assert command(server, alias)["command"] == name


def test_stats_and_connections_carry_the_figures(server, zk):
    stats = command(server, "stats")
    assert set(stats["server_stats"]) >= SERVER_STATS
    assert stats["server_stats"]["server_state"] == "standalone"
    assert stats["server_stats"]["num_alive_client_connections"] >= 1
    assert stats["node_count"] == int(monitor(server)["znode_count"])
    conns = command(server, "connections")["connections"]
    mine = [c for c in conns if c["session_id"] == zk.client_id[0]]
    assert len(mine) == 1 and set(mine[0]) == CONNECTION


def monitor(server):
    return command(server, "monitor")


def test_monitor_matches_mntr_and_follows_changes(server, zk):
    before = monitor(server)
    assert before["server_state"] == "standalone"
    words = dict(l.split("\t", 1) for l in four_letter(HOST, server.port, "mntr").splitlines())
    for key in ("znode_count", "ephemerals_count", "global_sessions"):
        assert before[key] == int(words["zk_" + key]), key
    path = "/admin-count-" + uuid.uuid4().hex[:6]
    zk.create(path, b"")
    zk.exists(path + "/none", watch=lambda e: None)
    after = monitor(server)
    assert after["znode_count"] == before["znode_count"] + 1
    assert after["watch_count"] >= before["watch_count"] + 1


def test_watch_commands_name_the_session_and_path(server, zk):
    path = "/admin-watch-" + uuid.uuid4().hex[:6]
    zk.create(path, b"")
    zk.get(path, watch=lambda e: None)
    sid = zk.client_id[0]
    assert path in command(server, "watches")["session_id_to_watched_paths"][str(sid)]
    assert sid in command(server, "watches_by_path")["path_to_session_ids"][path]
    zk.create(path + "/e", b"", ephemeral=True)
    assert path + "/e" in command(server, "dump")["session_id_to_ephemeral_paths"][str(sid)]


def test_errors_are_zookeepers(server):
    assert command(server, "nosuch") == {"command": "nosuch", "error": "Unknown command: nosuch"}
    lead = command(server, "leader")
    assert lead == {"command": "leader", "error": "server is not initialized"}
    stmk = command(server, "set_trace_mask")
    assert stmk["error"] == "setTraceMask requires long traceMask argument"
    assert command(server, "gtmk")["tracemask"] == 306


def test_initial_configuration_is_the_zoo_cfg(server):
    text = command(server, "initial_configuration")["initial_configuration"]
    assert "clientPort=%d" % server.port in text
    assert "admin.serverPort=%d" % server.admin_port in text


def test_stat_reset_zeroes_the_counters(server, zk):
    zk.get("/")
    assert command(server, "stat_reset")["error"] is None
    stats = command(server, "server_stats")["server_stats"]
    # The stat_reset itself is not a client packet; a ping may slip in.
    assert stats["packets_received"] <= 2 and stats["max_latency"] <= 1000
