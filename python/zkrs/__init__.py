"""zkrs: a ZooKeeper-compatible coordination service.

``zkrs.Client`` is a kazoo-shaped client for any ZooKeeper ensemble, with
kazoo's recipes (``Lock``, ``Election``, ``Counter``, ``Queue``, ...) as
classes and as factories on the client (``client.Lock(path, identifier)``);
``zkrs.Member`` runs a member inside this process and ``zkrs.Ensemble`` a
throw-away ensemble of them. Errors are ``ZkError`` subclasses named as
kazoo names them (``NoNodeError``, ...)."""

from zkrs._types import (
    ACL,
    ANYONE_ID_UNSAFE,
    AUTH_IDS,
    CREATOR_ALL_ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    EventType,
    Id,
    KazooState,
    KeeperState,
    Permissions,
    WatchedEvent,
    ZnodeStat,
)
from zkrs._native import (
    APIError,
    AuthFailedError,
    BadArgumentsError,
    BadVersionError,
    Barrier,
    ChildrenWatch,
    Client,
    CancelledError,
    Counter,
    DataWatch,
    DoubleBarrier,
    Election,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionLoss,
    DataInconsistency,
    Ensemble,
    EphemeralOnLocalSessionError,
    InvalidACLError,
    InvalidCallbackError,
    KazooRetry,
    Lock,
    LockTimeout,
    MarshallingError,
    Member,
    NewConfigNoQuorumError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    NotReadOnlyCallError,
    NoWatcherError,
    OperationTimeoutError,
    Party,
    QuotaExceededError,
    Queue,
    ReconfigDisabledError,
    ReconfigInProcessError,
    RequestTimeoutError,
    RetryFailedError,
    RolledBackError,
    RuntimeInconsistency,
    Semaphore,
    SessionClosedRequireSaslError,
    SessionExpiredError,
    SessionMovedError,
    ShallowParty,
    SystemZookeeperError,
    ThrottledOpError,
    TransactionRequest,
    UnimplementedError,
    UnknownSessionError,
    ZkError,
    __version__,
)


def ReadLock(client: Client, path: str, identifier: "str | None" = None) -> Lock:
    """kazoo's ReadLock: shared with other readers, excludes writers."""
    return Lock(client, path, identifier, shared=True)


def WriteLock(client: Client, path: str, identifier: "str | None" = None) -> Lock:
    """kazoo's WriteLock: exclusive (the same queue as Lock)."""
    return Lock(client, path, identifier)


from zkrs._logging import set_log_level, start as _start_logging  # noqa: E402

_start_logging()

#: kazoo's name for the base class.
ZookeeperError = ZkError

__all__ = [
    "ACL",
    "ANYONE_ID_UNSAFE",
    "AUTH_IDS",
    "CREATOR_ALL_ACL",
    "OPEN_ACL_UNSAFE",
    "READ_ACL_UNSAFE",
    "EventType",
    "Id",
    "KazooState",
    "KeeperState",
    "Permissions",
    "WatchedEvent",
    "ZnodeStat",
    "Client",
    "Member",
    "Ensemble",
    "TransactionRequest",
    "KazooRetry",
    "RetryFailedError",
    "LockTimeout",
    "CancelledError",
    "Lock",
    "ReadLock",
    "WriteLock",
    "Semaphore",
    "Election",
    "Counter",
    "Barrier",
    "DoubleBarrier",
    "Queue",
    "Party",
    "ShallowParty",
    "DataWatch",
    "ChildrenWatch",
    "ZkError",
    "ZookeeperError",
    "set_log_level",
    "APIError",
    "AuthFailedError",
    "BadArgumentsError",
    "BadVersionError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ConnectionLoss",
    "DataInconsistency",
    "EphemeralOnLocalSessionError",
    "InvalidACLError",
    "InvalidCallbackError",
    "MarshallingError",
    "NewConfigNoQuorumError",
    "NoAuthError",
    "NoChildrenForEphemeralsError",
    "NodeExistsError",
    "NoNodeError",
    "NotEmptyError",
    "NotReadOnlyCallError",
    "NoWatcherError",
    "OperationTimeoutError",
    "QuotaExceededError",
    "ReconfigDisabledError",
    "ReconfigInProcessError",
    "RequestTimeoutError",
    "RolledBackError",
    "RuntimeInconsistency",
    "SessionClosedRequireSaslError",
    "SessionExpiredError",
    "SessionMovedError",
    "SystemZookeeperError",
    "ThrottledOpError",
    "UnimplementedError",
    "UnknownSessionError",
    "__version__",
]
