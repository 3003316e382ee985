"""A minimal raw ZooKeeper session that can move between members and
re-register its watches with SetWatches2, as the Java and C clients do.

kazoo 2.11 drops its one-shot watchers on every disconnect (it hands them a
NONE event and never sends SetWatches), so kazoo cannot show that a watch
survives a failover; this client can. One reader thread queues replies and
watch notifications; one pinger thread keeps the session alive.
"""

import queue
import socket
import struct
import sys
import os
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat"))

from rawzk import frame, jstring  # noqa: E402

OP_GET_DATA = 4
OP_EXISTS = 3
OP_PING = 11
OP_SET_WATCHES2 = 105
XID_NOTIFY = -1
XID_PING = -2
XID_SET_WATCHES = -8

STAT = struct.Struct(">qqqqiiiqiiq")


def _vec(paths):
    return struct.pack(">i", len(paths)) + b"".join(jstring(p) for p in paths)


class Closed(Exception):
    pass


class RawSession:
    def __init__(self, hostport, timeout_ms=4000):
        self.session_id = 0
        self.passwd = b"\0" * 16
        self.timeout_ms = timeout_ms
        self.last_zxid = 0
        self.events = queue.Queue()
        self.data_watches = set()
        self._xid = 0
        self._lock = threading.Lock()
        self._sock = None
        self._replies = None
        self._stop = threading.Event()
        self._connect(hostport)

    # -- connection ------------------------------------------------------------

    def _connect(self, hostport):
        host, port = hostport.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=5)
        body = struct.pack(">iqiq", 0, self.last_zxid, self.timeout_ms, self.session_id)
        body += struct.pack(">i", 16) + self.passwd + b"\0"
        sock.sendall(frame(body))
        rep = _recv_frame(sock, 5)
        if rep is None:
            sock.close()
            raise Closed("closed during handshake with %s" % hostport)
        _, to, sid = struct.unpack_from(">iiq", rep, 0)
        (plen,) = struct.unpack_from(">i", rep, 16)
        passwd = rep[20:20 + plen]
        if to <= 0 or sid == 0:
            sock.close()
            raise Closed("session expired (timeout %d, sid %#x) at %s" % (to, sid, hostport))
        if self.session_id and sid != self.session_id:
            sock.close()
            raise AssertionError("reconnect gave another session %#x != %#x" % (sid, self.session_id))
        self.session_id, self.passwd, self.negotiated = sid, passwd, to
        self.hostport = hostport
        self._sock = sock
        self._replies = queue.Queue()
        self._dead = threading.Event()
        sock.settimeout(None)
        threading.Thread(target=self._reader, args=(sock, self._replies, self._dead), daemon=True).start()
        threading.Thread(target=self._pinger, args=(sock, self._dead), daemon=True).start()

    def reconnect(self, hostport):
        """Reattach the same session to `hostport`, re-sending the data
        watches (SetWatches2 with relativeZxid = last zxid seen)."""
        self.drop()
        self._connect(hostport)
        if self.data_watches:
            body = struct.pack(">q", self.last_zxid) + _vec(sorted(self.data_watches))
            body += _vec([]) + _vec([]) + _vec([]) + _vec([])
            _, _, err, _ = self._call(XID_SET_WATCHES, OP_SET_WATCHES2, body)
            assert err == 0, "SetWatches2 failed: %d" % err

    def drop(self):
        """Close the socket without closing the session."""
        if self._sock is not None:
            self._dead.set()
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            self._sock = None

    def close(self):
        self._stop.set()
        self.drop()

    def _reader(self, sock, replies, dead):
        try:
            while not dead.is_set():
                rep = _recv_frame(sock, None)
                if rep is None:
                    break
                xid, zxid, err = struct.unpack_from(">iqi", rep, 0)
                if xid == XID_NOTIFY:
                    typ, state = struct.unpack_from(">ii", rep, 16)
                    (n,) = struct.unpack_from(">i", rep, 24)
                    path = rep[28:28 + n].decode()
                    self.data_watches.discard(path)
                    self.events.put((typ, state, path))
                    continue
                if zxid > 0:
                    self.last_zxid = max(self.last_zxid, zxid)
                if xid == XID_PING:
                    continue
                replies.put((xid, zxid, err, rep[16:]))
        except OSError:
            pass
        finally:
            dead.set()
            replies.put(None)

    def _pinger(self, sock, dead):
        every = self.negotiated / 3000.0
        while not dead.wait(every) and not self._stop.is_set():
            try:
                with self._lock:
                    sock.sendall(frame(struct.pack(">ii", XID_PING, OP_PING)))
            except OSError:
                dead.set()
                return

    def connected(self):
        return self._sock is not None and not self._dead.is_set()

    # -- requests --------------------------------------------------------------

    def _call(self, xid, op, body, timeout=10):
        if not self.connected():
            raise Closed("not connected")
        with self._lock:
            self._sock.sendall(frame(struct.pack(">ii", xid, op) + body))
        try:
            rep = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no reply within %ss" % timeout)
        if rep is None:
            raise Closed("connection closed")
        assert rep[0] == xid, "reply xid %d != %d" % (rep[0], xid)
        return rep

    def next_xid(self):
        self._xid += 1
        return self._xid

    def get_data(self, path, watch=False):
        """(data, stat tuple); registers a data watch when watch=True."""
        _, _, err, rest = self._call(self.next_xid(), OP_GET_DATA, jstring(path) + (b"\1" if watch else b"\0"))
        if err != 0:
            raise AssertionError("getData %s: err %d" % (path, err))
        if watch:
            self.data_watches.add(path)
        (n,) = struct.unpack_from(">i", rest, 0)
        data = rest[4:4 + max(n, 0)]
        stat = STAT.unpack_from(rest, 4 + max(n, 0))
        return data, stat

    def wait_event(self, timeout=10):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no watch event within %ss" % timeout)


def _recv_frame(sock, timeout):
    hdr = _recv_exact(sock, 4, timeout)
    if hdr is None:
        return None
    (n,) = struct.unpack(">i", hdr)
    return _recv_exact(sock, n, timeout)


def _recv_exact(sock, n, timeout):
    buf = b""
    deadline = None if timeout is None else time.monotonic() + timeout
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionResetError, OSError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf
