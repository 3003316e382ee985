"""What released kazoo (2.11) lacks: container and TTL creates, and
persistent (recursive) watches via addWatch. Small request records in
kazoo's own style, sent through kazoo's connection, so the wire traffic is
still kazoo's framing, handshake, xids and session handling.
"""

import struct
from collections import namedtuple

from kazoo.protocol.serialization import Create2, Watch, int_struct, write_string
from kazoo.protocol.states import EVENT_TYPE_MAP, WatchedEvent
from kazoo.security import OPEN_ACL_UNSAFE

CONTAINER = 4
PERSISTENT_WITH_TTL = 5
PERSISTENT_SEQUENTIAL_WITH_TTL = 6

PERSISTENT = 0
PERSISTENT_RECURSIVE = 1


class CreateContainer(namedtuple("CreateContainer", "path data acl flags")):
    type = 19  # createContainer: CreateRequest body, Create2Response
    serialize = Create2.serialize
    deserialize = classmethod(lambda cls, b, o: Create2.deserialize(b, o))


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21  # createTTL: CreateTTLRequest, Create2Response

    def serialize(self):
        b = bytearray(Create2(self.path, self.data, self.acl, self.flags).serialize())
        b.extend(struct.pack(">q", self.ttl))
        return b

    @classmethod
    def deserialize(cls, b, o):
        return Create2.deserialize(b, o)


class AddWatch(namedtuple("AddWatch", "path mode")):
    type = 106  # AddWatchRequest {path, mode}; empty response

    def serialize(self):
        b = bytearray()
        b.extend(write_string(self.path))
        b.extend(int_struct.pack(self.mode))
        return b

    @classmethod
    def deserialize(cls, b, o):
        return True


def create_container(zk, path, value=b"", acl=None):
    """Returns (path, ZnodeStat)."""
    req = CreateContainer(path, value, acl or OPEN_ACL_UNSAFE, CONTAINER)
    return _sync(zk, req)


def create_ttl(zk, path, ttl_ms, value=b"", acl=None, sequence=False):
    flags = PERSISTENT_SEQUENTIAL_WITH_TTL if sequence else PERSISTENT_WITH_TTL
    req = CreateTTL(path, value, acl or OPEN_ACL_UNSAFE, flags, ttl_ms)
    return _sync(zk, req)


def _sync(zk, req, timeout=10):
    async_result = zk.handler.async_result()
    zk._call(req, async_result)
    return async_result.get(timeout=timeout)


def add_watch(zk, path, callback, mode):
    """Register a persistent watch (mode PERSISTENT or PERSISTENT_RECURSIVE).
    `callback(WatchedEvent)` runs on kazoo's callback thread for every event
    the server sends for it (they stay registered after firing)."""
    _install_dispatch(zk)
    zk._compat_persistent.append((path, mode, callback))
    try:
        _sync(zk, AddWatch(path, mode))
    except Exception:
        zk._compat_persistent.remove((path, mode, callback))
        raise


def _install_dispatch(zk):
    if getattr(zk, "_compat_persistent", None) is not None:
        return
    zk._compat_persistent = []
    conn = zk._connection
    original = conn._read_watch_event

    def read_watch_event(buffer, offset):
        watch, _ = Watch.deserialize(buffer, offset)
        if watch.type in EVENT_TYPE_MAP:
            ev = WatchedEvent(EVENT_TYPE_MAP[watch.type], zk._state, watch.path)
            for path, mode, cb in list(zk._compat_persistent):
                hit = watch.path == path or (
                    mode == PERSISTENT_RECURSIVE
                    and watch.path.startswith(path.rstrip("/") + "/")
                )
                if hit:
                    zk.handler.dispatch_callback(_callback(cb, ev))
        return original(buffer, offset)

    conn._read_watch_event = read_watch_event


def _callback(cb, ev):
    from kazoo.protocol.states import Callback

    return Callback("watch", cb, (ev,))
