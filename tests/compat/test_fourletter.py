"""Four-letter words over a raw socket."""

import re

import pytest

from zkharness import ZkServer, four_letter


def flw(server, word):
    return four_letter(server.host, server.port, word)


def test_ruok(server):
    assert flw(server, "ruok") == "imok"


def test_srvr(server):
    a = flw(server, "srvr")
    assert a.startswith("Zookeeper version: ")
    assert "\nMode: standalone\n" in a
    assert re.search(r"^Latency min/avg/max: \d+/[\d.]+/\d+$", a, re.M)
    assert re.search(r"^Zxid: 0x[0-9a-f]+$", a, re.M)
    assert re.search(r"^Node count: \d+$", a, re.M)
    assert re.search(r"^Connections: \d+$", a, re.M)


def test_stat_lists_clients(server, zk):
    a = flw(server, "stat")
    assert a.startswith("Zookeeper version: ")
    assert "Clients:\n" in a and "\nMode: standalone\n" in a
    assert re.search(r"^ /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+", a, re.M)


def test_mntr(server, zk):
    a = flw(server, "mntr")
    kv = dict(line.split("\t", 1) for line in a.strip().splitlines())
    for key in [
        "zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency",
        "zk_min_latency", "zk_packets_received", "zk_packets_sent",
        "zk_num_alive_connections", "zk_outstanding_requests", "zk_znode_count",
        "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
    ]:
        assert key in kv, key
    assert kv["zk_server_state"] == "standalone"
    assert int(kv["zk_znode_count"]) >= 5  # /, /zookeeper, /zookeeper/config, /zookeeper/quota, /compat
    assert int(kv["zk_num_alive_connections"]) >= 1


def test_mntr_counts_follow_changes(server, zk, base):
    def mntr():
        return dict(l.split("\t", 1) for l in flw(server, "mntr").strip().splitlines())
    before = mntr()
    zk.create(base + "/a")
    zk.create(base + "/b", ephemeral=True)
    after = mntr()
    assert int(after["zk_znode_count"]) == int(before["zk_znode_count"]) + 2
    assert int(after["zk_ephemerals_count"]) == int(before["zk_ephemerals_count"]) + 1


def test_conf(server):
    a = flw(server, "conf")
    kv = dict(line.split("=", 1) for line in a.strip().splitlines())
    assert kv["clientPort"] == str(server.port)
    assert kv["tickTime"] == "200"
    assert kv["minSessionTimeout"] == "400"
    assert kv["maxSessionTimeout"] == "4000"
    assert kv["dataDir"].startswith(server.data_dir)


def test_cons(server, zk):
    a = flw(server, "cons")
    assert re.search(r"^ /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+", a, re.M)
    assert "sid=0x%x" % zk.client_id[0] in a


def test_wchs(server, zk, base):
    zk.create(base + "/w")
    zk.get(base + "/w", watch=lambda e: None)
    a = flw(server, "wchs")
    m = re.match(r"(\d+) connections watching (\d+) paths\nTotal watches:(\d+)\n", a)
    assert m, a
    assert int(m.group(1)) >= 1 and int(m.group(2)) >= 1 and int(m.group(3)) >= 1


def test_envi(server):
    a = flw(server, "envi")
    assert a.startswith("Environment:\n")
    assert re.search(r"^zookeeper\.version=\S", a, re.M)
    assert re.search(r"^host\.name=", a, re.M)
    assert re.search(r"^os\.name=", a, re.M)


def test_isro(server):
    assert flw(server, "isro") == "rw"


def test_dirs(server):
    a = flw(server, "dirs")
    assert re.fullmatch(r"datadir_size: \d+\nlogdir_size: \d+\n", a), a


def test_unknown_word_closes(server):
    # not a 4lw: read as a frame length (0x78797a77) > jute.maxbuffer -> closed, no answer
    assert flw(server, "xyzw") == ""
    assert flw(server, "ruok") == "imok"


@pytest.fixture(scope="module")
def restricted_server():
    srv = ZkServer(whitelist="ruok, srvr")
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.mark.parametrize("word", ["stat", "mntr", "envi", "conf", "cons", "wchs", "dirs", "isro"])
def test_word_outside_whitelist_refused(restricted_server, word):
    a = flw(restricted_server, word)
    assert a == "%s is not executed because it is not in the whitelist.\n" % word


def test_whitelisted_words_answer(restricted_server):
    assert flw(restricted_server, "ruok") == "imok"
    assert "Mode: standalone" in flw(restricted_server, "srvr")
