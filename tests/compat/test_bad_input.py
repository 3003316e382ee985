"""Bad input over raw sockets (and through kazoo). After each case a fresh
kazoo client must still work and the stored znodes must be unchanged.

Apache ZooKeeper 3.8 (observed, and asserted here):
- a frame length < 0 or > jute.maxbuffer, before or after the handshake:
  connection closed, nothing sent back;
- garbage as the first frame (parsed as a ConnectRequest): closed;
- a truncated frame: the server waits for the rest; the client closing is fine;
- a valid session then opcode 999: one reply header {xid, zxid=-1,
  err=-6 Unimplemented}, then the server closes the connection;
- a known opcode with an undecodable body: reply err=-5 MarshallingError,
  connection stays open;
- invalid paths in create: -8 BadArguments ("//a", "a", "", "/a\\0b",
  "/a/" when /a exists); but the parent (text before the last "/") is
  looked up first, so "/a/" with /a missing, "/x//y" or "a/b" give -101
  NoNode; "/a/" with the sequential flag is a valid child name;
- setData with a wrong version: -103 BadVersion (also for version -2);
- reattaching with a wrong session password or an unknown session id: a
  ConnectResponse with timeout 0 and session id 0, then closed;
- a ConnectRequest whose lastZxidSeen is ahead of the server: closed, no reply.
"""

import random
import struct

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError

import rawzk
from rawzk import (
    OP_CREATE,
    OP_SET_DATA,
    RawConn,
    connect_request,
    create_body,
    frame,
    jstring,
    request,
    set_data_body,
)

ERR_OK = 0
ERR_UNIMPLEMENTED = -6
ERR_MARSHALLING = -5
ERR_BAD_ARGUMENTS = -8
ERR_NO_NODE = -101
ERR_BAD_VERSION = -103


@pytest.fixture
def stored(zk, base):
    """A few znodes whose data and Stat must survive every bad input."""
    zk.create(base + "/a", b"alpha")
    zk.create(base + "/a/b", b"beta")
    zk.set(base + "/a/b", b"beta2")
    snap = {p: zk.get(p) for p in (base, base + "/a", base + "/a/b")}
    return base, snap


def check_intact(server, stored):
    base, snap = stored
    c = KazooClient(hosts=server.hostport, timeout=10.0)
    c.start(timeout=15)
    try:
        for path, (data, st) in snap.items():
            got, gst = c.get(path)
            assert got == data, path
            assert gst == st, path
        p = c.create(base + "/probe", b"ok")
        assert c.get(p)[0] == b"ok"
        c.delete(p)
    finally:
        c.stop()
        c.close()


def raw(server):
    return RawConn(server.host, server.port)


# ---- framing -------------------------------------------------------------

def test_random_bytes(server, stored):
    for seed in range(3):
        r = random.Random(seed)
        data = bytes(r.getrandbits(8) for _ in range(4096))
        with raw(server) as c:
            c.send(data)
            assert c.closed_by_peer(5)
    check_intact(server, stored)


def test_frame_longer_than_maxbuffer(server, stored):
    with raw(server) as c:
        c.send(struct.pack(">i", 0x7FFFFFFF) + b"abcd")
        assert c.closed_by_peer(5)
    with raw(server) as c:  # just over the 1 MiB default (0xfffff)
        c.send(struct.pack(">i", 0xFFFFF + 1 + 1024) + b"\0" * 64)
        assert c.closed_by_peer(5)
    check_intact(server, stored)


def test_oversized_frame_after_handshake(server, stored):
    with raw(server) as c:
        c.handshake()
        c.send(struct.pack(">i", 0x7FFFFFFF) + b"abcd")
        assert c.closed_by_peer(5)
    check_intact(server, stored)


@pytest.mark.parametrize("length", [-1, -5, -0x80000000])
def test_negative_length(server, stored, length):
    with raw(server) as c:
        c.send(struct.pack(">i", length) + b"abcd")
        assert c.closed_by_peer(5)
    with raw(server) as c:
        c.handshake()
        c.send(struct.pack(">i", length))
        assert c.closed_by_peer(5)
    check_intact(server, stored)


def test_truncated_frame_then_close(server, stored):
    with raw(server) as c:
        c.send(struct.pack(">i", 100) + b"abc")
    with raw(server) as c:
        c.handshake()
        c.send(request(1, OP_CREATE, create_body(stored[0] + "/trunc", b"x"))[:-6])
    check_intact(server, stored)
    base = stored[0]
    c = KazooClient(hosts=server.hostport)
    c.start(timeout=15)
    try:
        assert c.exists(base + "/trunc") is None
    finally:
        c.stop()
        c.close()


def test_short_connect_request(server, stored):
    with raw(server) as c:
        c.send(frame(b"\x01\x02"))
        assert c.closed_by_peer(5)
    check_intact(server, stored)


def test_request_before_handshake(server, stored):
    with raw(server) as c:
        c.send(request(1, 4, jstring(stored[0]) + b"\0"))
        assert c.closed_by_peer(5)
    check_intact(server, stored)


# ---- requests in a valid session -----------------------------------------

def test_unknown_opcode(server, stored):
    with raw(server) as c:
        c.handshake()
        c.send(request(7, 999))
        rep = c.recv_frame()
        assert rep is not None, "expected a reply header before the close"
        xid, zxid, err = struct.unpack_from(">iqi", rep, 0)
        assert (xid, err) == (7, ERR_UNIMPLEMENTED)
        assert c.closed_by_peer(5)
    check_intact(server, stored)


def test_undecodable_body(server, stored):
    with raw(server) as c:
        c.handshake()
        # create with a path length of -1 and nothing after it
        rep = c.call(0x01020304, OP_CREATE, struct.pack(">i", -1))
        assert rep is not None and rep[0] == 0x01020304
        assert rep[2] == ERR_MARSHALLING
        assert rep[3] == b""
        # the connection stays usable
        rep = c.call(5, 3, jstring(stored[0]) + b"\0")  # exists
        assert rep is not None and rep[2] == ERR_OK
    check_intact(server, stored)


@pytest.mark.parametrize(
    "path,err",
    [
        ("//a", ERR_BAD_ARGUMENTS),  # parent "/" exists, then the path is checked
        ("a", ERR_BAD_ARGUMENTS),  # no "/" at all
        ("", ERR_BAD_ARGUMENTS),
        ("/a\0b", ERR_BAD_ARGUMENTS),  # NUL is refused before anything else
        ("a/b", ERR_NO_NODE),  # parent "a" is looked up first: NoNode
        ("{base}//b", ERR_NO_NODE),  # parent "{base}/" does not exist
        ("{base}/a//b", ERR_NO_NODE),  # parent "{base}/a/" does not exist
    ],
)
def test_invalid_path_raw(server, stored, path, err):
    base = stored[0]
    full = path.format(base=base)
    with raw(server) as c:
        c.handshake()
        rep = c.call(3, OP_CREATE, create_body(full, b"x"))
        assert rep is not None and rep[2] == err, rep
        rep = c.call(4, 3, jstring(base + "/a") + b"\0")  # exists: still served
        assert rep[2] == ERR_OK
    check_intact(server, stored)


def test_trailing_slash_raw(server, stored):
    base = stored[0]
    with raw(server) as c:
        c.handshake()
        # parent "<base>/missing" does not exist: NoNode comes first
        assert c.call(1, OP_CREATE, create_body(base + "/missing/", b"x"))[2] == ERR_NO_NODE
        # parent exists: the path itself is invalid
        assert c.call(2, OP_CREATE, create_body(base + "/a/", b"x"))[2] == ERR_BAD_ARGUMENTS
        # sequential: "<base>/a/" + counter is a valid name
        rep = c.call(3, OP_CREATE, create_body(base + "/a/", b"x", flags=2))
        assert rep[2] == ERR_OK
        (n,) = struct.unpack_from(">i", rep[3], 0)
        assert rep[3][4:4 + n].decode() == base + "/a/0000000001"
        assert c.call(4, 2, jstring(base + "/a/0000000001") + struct.pack(">i", -1))[2] == ERR_OK
    # the create+delete changed /a's child stats; compare the rest
    b, snap = stored
    snap = {p: v for p, v in snap.items() if p != b + "/a"}
    check_intact(server, (b, snap))


def test_invalid_path_kazoo(zk, server, stored):
    base = stored[0]
    for bad in [base + "/x/./y", base + "/x/../y", base + "/."]:
        with pytest.raises(ValueError):
            zk.create(bad)
    check_intact(server, stored)


def test_set_data_bad_version_raw(server, stored):
    base = stored[0]
    with raw(server) as c:
        c.handshake()
        for v in (0, 5, -2, 0x7FFFFFFF):
            rep = c.call(1, OP_SET_DATA, set_data_body(base + "/a/b", b"evil", v))
            assert rep[2] == ERR_BAD_VERSION, (v, rep)
        rep = c.call(2, OP_SET_DATA, set_data_body(base + "/nope", b"x", -1))
        assert rep[2] == ERR_NO_NODE
    check_intact(server, stored)


def test_set_data_bad_version_kazoo(zk, server, stored):
    with pytest.raises(BadVersionError):
        zk.set(stored[0] + "/a/b", b"evil", version=0)
    check_intact(server, stored)


# ---- handshake -----------------------------------------------------------

def test_session_timeout_clamped(server):
    for asked, got in ((100, 400), (1000, 1000), (100000, 4000)):
        with raw(server) as c:
            c.send(connect_request(asked))
            body = c.recv_frame()
            proto, to, sid = struct.unpack_from(">iiq", body, 0)
            assert (to, sid != 0) == (got, True), asked


def test_reattach_wrong_password(zk, server, stored):
    sid, _ = zk.client_id
    for session, pw in ((sid, b"x" * 16), (0x7EADBEEF12345, b"\0" * 16)):
        with raw(server) as c:
            c.send(connect_request(4000, session, pw))
            body = c.recv_frame()
            assert body is not None
            proto, to, got_sid = struct.unpack_from(">iiq", body, 0)
            assert (to, got_sid) == (0, 0)
            assert c.closed_by_peer(5)
    assert zk.exists(stored[0])  # the real session is untouched
    check_intact(server, stored)


def test_last_zxid_ahead_refused(server, stored):
    with raw(server) as c:
        c.send(connect_request(4000, last_zxid=1 << 40))
        assert c.recv_frame() is None
    check_intact(server, stored)
