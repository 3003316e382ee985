//! ZooKeeper's vocabulary, shared by every layer: zxids, Stat, ACLs, create
//! modes, watch event kinds. Plain data only: the wire codec for these lives
//! in `proto`, their semantics in `tree`.

use serde::{Deserialize, Serialize};

/// A transaction id. In zkrs it is the replicated log index of the entry.
pub type Zxid = i64;

/// A session id as ZooKeeper clients see it.
pub type SessionId = i64;

/// The znode metadata every read returns; field order is the wire order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

/// An identity: a scheme and an id within it ("world"/"anyone",
/// "digest"/"user:hash", "ip"/"10.0.0.0/8", "auth"/"").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Id {
    pub scheme: String,
    pub id: String,
}

impl Id {
    pub fn new(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.to_string(),
            id: id.to_string(),
        }
    }
}

/// One ACL entry: a permission mask granted to an identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Acl {
    pub perms: i32,
    pub id: Id,
}

/// Permission bits (ZooDefs.Perms).
pub mod perms {
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = 31;
}

impl Acl {
    /// world:anyone with all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE).
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: Id::new("world", "anyone"),
        }]
    }
    /// world:anyone read-only (ZooDefs.Ids.READ_ACL_UNSAFE).
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::READ,
            id: Id::new("world", "anyone"),
        }]
    }
    /// auth with all permissions (ZooDefs.Ids.CREATOR_ALL_ACL).
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: Id::new("auth", ""),
        }]
    }
}

/// How a znode is created (CreateMode; the wire flag is the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    PersistentWithTtl,
    PersistentSequentialWithTtl,
}

impl CreateMode {
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }
    pub fn flag(self) -> i32 {
        self as i32
    }
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// ephemeralOwner value that marks a container znode (Long.MIN_VALUE).
pub const CONTAINER_OWNER: i64 = i64::MIN;

/// ephemeralOwner for a TTL znode: high byte 0xFF, TTL in milliseconds below
/// (EphemeralType.TTL). Returns None when the TTL does not fit.
pub fn ttl_owner(ttl_ms: i64) -> Option<i64> {
    const MAX_TTL: i64 = 0x00FF_FFFF_FFFF;
    if ttl_ms <= 0 || ttl_ms > MAX_TTL {
        return None;
    }
    Some(((0xFFu64 << 56) as i64) | ttl_ms)
}

/// The TTL carried by a TTL znode's ephemeralOwner, if it is one.
pub fn owner_ttl(owner: i64) -> Option<i64> {
    if owner != CONTAINER_OWNER && ((owner as u64) >> 56) == 0xFF {
        Some(owner & 0x00FF_FFFF_FFFF)
    } else {
        None
    }
}

/// Watch event types (Watcher.Event.EventType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
    DataWatchRemoved = 5,
    ChildWatchRemoved = 6,
    PersistentWatchRemoved = 7,
}

/// Session states carried in watch events (Watcher.Event.KeeperState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeeperState {
    Disconnected = 0,
    SyncConnected = 3,
    AuthFailed = 4,
    ConnectedReadOnly = 5,
    SaslAuthenticated = 6,
    Expired = -112,
    Closed = 7,
}

/// A watch notification as delivered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    pub event_type: EventType,
    pub state: KeeperState,
    pub path: String,
}

/// Milliseconds since the Unix epoch on this machine's wall clock. Only the
/// leader's reading goes into the log (`consensus` stamps `Txn::time`).
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_owner_round_trips_and_is_not_container() {
        let o = ttl_owner(5000).unwrap();
        assert_eq!(owner_ttl(o), Some(5000));
        assert_eq!(owner_ttl(CONTAINER_OWNER), None);
        assert_eq!(owner_ttl(0x1234), None);
        assert!(ttl_owner(0).is_none());
    }

    #[test]
    fn create_mode_flags() {
        for f in 0..7 {
            assert_eq!(CreateMode::from_flag(f).unwrap().flag(), f);
        }
        assert!(CreateMode::from_flag(7).is_none());
    }
}
