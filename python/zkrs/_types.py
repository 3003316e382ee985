"""Plain data types shaped like kazoo's, so code written for kazoo reads
the same: ZnodeStat, WatchedEvent, ACL/Id, and the state/event names.
Data only; the native module builds these from core values."""

from typing import List, NamedTuple, Optional


class KazooState:
    """Session states passed to ``Client.add_listener`` callbacks."""

    SUSPENDED = "SUSPENDED"
    CONNECTED = "CONNECTED"
    LOST = "LOST"


class PartitionState:
    """``SetPartitioner.state`` values (kazoo's names)."""

    ALLOCATING = "ALLOCATING"
    ACQUIRED = "ACQUIRED"
    RELEASE = "RELEASE"
    FAILURE = "FAILURE"


class KeeperState:
    """ZooKeeper's KeeperState as kazoo spells it (``WatchedEvent.state``)."""

    AUTH_FAILED = "AUTH_FAILED"
    CONNECTED = "CONNECTED"
    CONNECTED_RO = "CONNECTED_RO"
    CONNECTING = "CONNECTING"
    CLOSED = "CLOSED"
    EXPIRED_SESSION = "EXPIRED_SESSION"


class EventType:
    """ZooKeeper's EventType as kazoo spells it (``WatchedEvent.type``)."""

    CREATED = "CREATED"
    DELETED = "DELETED"
    CHANGED = "CHANGED"
    CHILD = "CHILD"
    NONE = "NONE"


class WatchedEvent(NamedTuple):
    """What a watch callable receives: ``(type, state, path)``."""

    type: str
    state: str
    path: str


class ZnodeStat(NamedTuple):
    """A znode's Stat, with kazoo's field names and convenience properties."""

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeralOwner: int
    dataLength: int
    numChildren: int
    pzxid: int

    @property
    def acl_version(self) -> int:
        return self.aversion

    @property
    def children_version(self) -> int:
        return self.cversion

    @property
    def created(self) -> float:
        return self.ctime / 1000.0

    @property
    def last_modified(self) -> float:
        return self.mtime / 1000.0

    @property
    def owner_session_id(self) -> Optional[int]:
        return self.ephemeralOwner or None

    @property
    def creation_transaction_id(self) -> int:
        return self.czxid

    @property
    def last_modified_transaction_id(self) -> int:
        return self.mzxid

    @property
    def data_length(self) -> int:
        return self.dataLength

    @property
    def children_count(self) -> int:
        return self.numChildren


class Id(NamedTuple):
    """An identity: a scheme and an id within it."""

    scheme: str
    id: str


class ACL(NamedTuple):
    """One ACL entry: a permission mask granted to an identity."""

    perms: int
    id: Id


class Permissions:
    """Permission bits (ZooDefs.Perms)."""

    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


ANYONE_ID_UNSAFE = Id("world", "anyone")
AUTH_IDS = Id("auth", "")
OPEN_ACL_UNSAFE = [ACL(Permissions.ALL, ANYONE_ID_UNSAFE)]
READ_ACL_UNSAFE = [ACL(Permissions.READ, ANYONE_ID_UNSAFE)]
CREATOR_ALL_ACL = [ACL(Permissions.ALL, AUTH_IDS)]


class NodeData(NamedTuple):
    """A node of a ``TreeCache`` (kazoo's ``NodeData``)."""

    path: str
    data: Optional[bytes]
    stat: Optional[ZnodeStat]


class _TreeEvent(NamedTuple):
    event_type: int
    event_data: Optional[NodeData]


class TreeEvent(_TreeEvent):
    """What a ``TreeCache`` listener gets (kazoo's ``TreeEvent``):
    ``event_type`` is one of the constants below, ``event_data`` the node
    (None for INITIALIZED)."""

    __slots__ = ()

    NODE_ADDED = 0
    NODE_UPDATED = 1
    NODE_REMOVED = 2
    INITIALIZED = 6
