"""Acked writes survive kill -9 and restart on the same data dir."""

from kazoo.client import KazooClient

N = 200


def _client(srv):
    zk = KazooClient(hosts=srv.hostport, timeout=10.0)
    zk.start(timeout=15)
    return zk


def test_acked_writes_survive_sigkill(own_server):
    srv = own_server
    zk = _client(srv)
    seen = {}
    try:
        zk.create("/dur")
        for i in range(N):
            path = "/dur/n%03d" % i
            data = ("value-%d-" % i).encode() * (1 + i % 7)
            _, st = zk.create(path, data, include_data=True)
            if i % 2:  # half of them get a second, acked write
                data = data + b"+set"
                st = zk.set(path, data)
            seen[path] = (data, st)
        # kill -9 right after the last ack: no close, no clean shutdown
        srv.kill()
    finally:
        zk.stop()
        zk.close()
    srv.restart()  # start again on the same data dir (waits for the port)
    zk = _client(srv)
    try:
        kids = zk.get_children("/dur")
        assert len(kids) == N
        for path, (data, st) in seen.items():
            got, gst = zk.get(path)
            assert got == data, path
            assert (gst.version, gst.czxid, gst.mzxid, gst.ctime, gst.mtime) == (
                st.version, st.czxid, st.mzxid, st.ctime, st.mtime), path
        # new writes get zxids above everything recovered
        _, st = zk.create("/dur/after", include_data=True)
        assert st.czxid > max(s.mzxid for _, s in seen.values())
    finally:
        zk.stop()
        zk.close()


def test_sessions_and_ephemerals_after_restart(own_server):
    # An ephemeral whose owner is gone is removed once its session expires
    # after the restart (here the owner closed nothing: the server was killed).
    srv = own_server
    zk = KazooClient(hosts=srv.hostport, timeout=1.0)
    zk.start(timeout=15)
    zk.create("/eph", ephemeral=True)
    zk.create("/persist", b"p")
    srv.kill()
    zk.stop()
    zk.close()
    srv.restart()  # start again on the same data dir (waits for the port)
    other = _client(srv)
    try:
        assert other.get("/persist")[0] == b"p"
        import time
        deadline = time.monotonic() + 20
        while other.exists("/eph") is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert other.exists("/eph") is None
    finally:
        other.stop()
        other.close()
