//! ZooKeeper's vocabulary as JavaScript values: Stat, ACL, create modes,
//! watch events, session states. Conversions only.

use napi::bindgen_prelude::{i64n, Buffer, Either};
use napi_derive::napi;
use zkrs::client::SessionState;
use zkrs::types::{self as zt, CreateMode, EventType, KeeperState};

use crate::error::{bad_arguments, ZkError};

/// Znode metadata, field for field as ZooKeeper's Stat. zxids and times are
/// numbers; `ephemeralOwner` is a session id, which needs all 64 bits.
#[napi(object, object_from_js = false)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64n,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

impl From<zt::Stat> for Stat {
    fn from(s: zt::Stat) -> Self {
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: i64n(s.ephemeral_owner),
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid,
        }
    }
}

/// An identity: `{scheme: 'world', id: 'anyone'}`, `{scheme: 'digest',
/// id: 'user:base64(sha1)'}`, `{scheme: 'ip', id: '10.0.0.0/8'}`.
#[napi(object)]
pub struct Id {
    pub scheme: String,
    pub id: String,
}

/// One ACL entry; `perms` is a mask of Perms (READ 1, WRITE 2, CREATE 4,
/// DELETE 8, ADMIN 16, ALL 31).
#[napi(object)]
pub struct Acl {
    pub perms: i32,
    pub id: Id,
}

impl From<zt::Acl> for Acl {
    fn from(a: zt::Acl) -> Self {
        Acl {
            perms: a.perms,
            id: Id {
                scheme: a.id.scheme,
                id: a.id.id,
            },
        }
    }
}

impl From<Acl> for zt::Acl {
    fn from(a: Acl) -> Self {
        zt::Acl {
            perms: a.perms,
            id: zt::Id {
                scheme: a.id.scheme,
                id: a.id.id,
            },
        }
    }
}

/// Permission bits (ZooDefs.Perms).
#[napi]
pub enum Perms {
    Read = 1,
    Write = 2,
    Create = 4,
    Delete = 8,
    Admin = 16,
    All = 31,
}

/// The ACL a create gets when none is given: world:anyone, all permissions
/// (ZooDefs.Ids.OPEN_ACL_UNSAFE).
pub fn acl_or_open(acl: Option<Vec<Acl>>) -> Vec<zt::Acl> {
    match acl {
        Some(a) => a.into_iter().map(Into::into).collect(),
        None => zt::Acl::open_unsafe(),
    }
}

/// Node data: a Buffer, or a string taken as UTF-8.
pub fn data_bytes(data: Option<Either<Buffer, String>>) -> Vec<u8> {
    match data {
        Some(Either::A(b)) => b.to_vec(),
        Some(Either::B(s)) => s.into_bytes(),
        None => Vec::new(),
    }
}

/// Znode data from JS: null or undefined is null data, which ZooKeeper
/// keeps apart from an empty buffer.
pub fn node_data(data: Option<Either<Buffer, String>>) -> Option<Vec<u8>> {
    data.map(|d| data_bytes(Some(d)))
}

/// Create modes by name (CreateMode); 'ttl' is PERSISTENT_WITH_TTL.
#[napi(string_enum = "snake_case", js_name = "CreateMode")]
pub enum JsCreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    Ttl,
    PersistentSequentialWithTtl,
}

/// Create modes by name. The TTL modes need `ttl`; `mode: 'ttl'` is
/// PERSISTENT_WITH_TTL.
pub fn create_mode(name: Option<&str>) -> Result<CreateMode, ZkError> {
    Ok(match name.unwrap_or("persistent") {
        "persistent" => CreateMode::Persistent,
        "ephemeral" => CreateMode::Ephemeral,
        "persistent_sequential" => CreateMode::PersistentSequential,
        "ephemeral_sequential" => CreateMode::EphemeralSequential,
        "container" => CreateMode::Container,
        "ttl" => CreateMode::PersistentWithTtl,
        "persistent_sequential_with_ttl" => CreateMode::PersistentSequentialWithTtl,
        other => return Err(bad_arguments(format!("unknown create mode '{other}'"))),
    })
}

/// Watch event types (Watcher.Event.EventType), by name.
#[napi(string_enum, js_name = "EventType")]
pub enum JsEventType {
    None,
    NodeCreated,
    NodeDeleted,
    NodeDataChanged,
    NodeChildrenChanged,
    DataWatchRemoved,
    ChildWatchRemoved,
    PersistentWatchRemoved,
}

impl From<EventType> for JsEventType {
    fn from(t: EventType) -> Self {
        match t {
            EventType::None => JsEventType::None,
            EventType::NodeCreated => JsEventType::NodeCreated,
            EventType::NodeDeleted => JsEventType::NodeDeleted,
            EventType::NodeDataChanged => JsEventType::NodeDataChanged,
            EventType::NodeChildrenChanged => JsEventType::NodeChildrenChanged,
            EventType::DataWatchRemoved => JsEventType::DataWatchRemoved,
            EventType::ChildWatchRemoved => JsEventType::ChildWatchRemoved,
            EventType::PersistentWatchRemoved => JsEventType::PersistentWatchRemoved,
        }
    }
}

/// Session states (Watcher.Event.KeeperState), by name: what watch events
/// carry and state listeners receive.
#[napi(string_enum, js_name = "KeeperState")]
pub enum JsKeeperState {
    Disconnected,
    SyncConnected,
    AuthFailed,
    ConnectedReadOnly,
    SaslAuthenticated,
    Expired,
    Closed,
}

impl From<KeeperState> for JsKeeperState {
    fn from(s: KeeperState) -> Self {
        match s {
            KeeperState::Disconnected => JsKeeperState::Disconnected,
            KeeperState::SyncConnected => JsKeeperState::SyncConnected,
            KeeperState::AuthFailed => JsKeeperState::AuthFailed,
            KeeperState::ConnectedReadOnly => JsKeeperState::ConnectedReadOnly,
            KeeperState::SaslAuthenticated => JsKeeperState::SaslAuthenticated,
            KeeperState::Expired => JsKeeperState::Expired,
            KeeperState::Closed => JsKeeperState::Closed,
        }
    }
}

impl From<SessionState> for JsKeeperState {
    fn from(s: SessionState) -> Self {
        s.keeper_state().into()
    }
}

/// A watch notification.
#[napi(object)]
pub struct WatchedEvent {
    #[napi(js_name = "type")]
    pub event_type: JsEventType,
    /// ZooKeeper's number for the type (NodeCreated 1, ...).
    pub type_code: i32,
    /// The session state when it fired, e.g. 'SyncConnected'.
    pub state: JsKeeperState,
    pub path: String,
}

impl From<zt::WatchedEvent> for WatchedEvent {
    fn from(e: zt::WatchedEvent) -> Self {
        WatchedEvent {
            event_type: e.event_type.into(),
            type_code: e.event_type as i32,
            state: e.state.into(),
            path: e.path,
        }
    }
}
