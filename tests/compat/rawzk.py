"""Minimal ZooKeeper wire-protocol pieces for raw-socket tests.

Only what the bad-input tests need: frame a record, the connect handshake,
and a request header + a create body. Written from zookeeper.jute.
"""

import socket
import struct
import time

OP_CREATE = 1
OP_SET_DATA = 5
OP_GET_DATA = 4

# ACL: perms ALL, world:anyone
WORLD_ALL = struct.pack(">i", 31)


def jstring(s):
    if s is None:
        return struct.pack(">i", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">i", len(b)) + b


def jbuffer(b):
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect_request(timeout_ms=4000, session_id=0, passwd=b"\0" * 16, last_zxid=0):
    return frame(
        struct.pack(">iqiq", 0, last_zxid, timeout_ms, session_id) + jbuffer(passwd) + b"\0"
    )


def world_acl_list():
    return struct.pack(">i", 1) + struct.pack(">i", 31) + jstring("world") + jstring("anyone")


def create_body(path, data=b"", flags=0):
    return jstring(path) + jbuffer(data) + world_acl_list() + struct.pack(">i", flags)


def set_data_body(path, data, version):
    return jstring(path) + jbuffer(data) + struct.pack(">i", version)


def request(xid, op, body=b""):
    return frame(struct.pack(">ii", xid, op) + body)


class RawConn:
    """A bounded, blocking raw connection."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout

    def send(self, b):
        self.sock.sendall(b)

    def recv_exact(self, n, timeout=None):
        """n bytes, or b'' if the peer closed first. socket.timeout if nothing
        arrives in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out after %d/%d bytes" % (len(buf), n))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                return b""
            if not chunk:
                return b""
            buf += chunk
        return buf

    def recv_frame(self, timeout=None):
        """The payload of the next frame, or None if the peer closed."""
        hdr = self.recv_exact(4, timeout)
        if len(hdr) < 4:
            return None
        (n,) = struct.unpack(">i", hdr)
        body = self.recv_exact(n, timeout)
        if len(body) < n:
            return None
        return body

    def handshake(self, timeout_ms=4000):
        self.send(connect_request(timeout_ms))
        body = self.recv_frame()
        assert body is not None, "server closed the connection during the handshake"
        proto, to, sid = struct.unpack_from(">iiq", body, 0)
        assert sid != 0 and to > 0, (proto, to, sid)
        return sid

    def call(self, xid, op, body=b"", timeout=None):
        """Send one request; return (xid, zxid, err, rest) or None if closed."""
        self.send(request(xid, op, body))
        while True:
            rep = self.recv_frame(timeout)
            if rep is None:
                return None
            rxid, zxid, err = struct.unpack_from(">iqi", rep, 0)
            if rxid == -1:  # a watch notification: skip
                continue
            return rxid, zxid, err, rep[16:]

    def closed_by_peer(self, timeout=5.0):
        """True if the server closes the connection within `timeout` (any
        bytes it sends before closing are drained and ignored)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not b:
                return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
