//! What the replicated log carries (a client write plus what the leader
//! decided for it) and what applying it yields.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::types::{Acl, Id, SessionId, Stat};

/// One log entry's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    /// The session the write belongs to (0 for the leader's own cleanup).
    pub session: SessionId,
    /// The member that took it from its client (a random id per member
    /// process; 0: the leader's own entry). A session's writes apply only
    /// from the member that last claimed it, so a write held up on a member
    /// the client has left cannot commit after the client's later writes
    /// through another member (ZooKeeper's session owner).
    pub owner: u64,
    /// The leader's wall-clock milliseconds when it appended the entry:
    /// ctime/mtime and TTL checks use this. Whoever builds a `Txn` may put
    /// anything here; the leader overwrites it (`consensus` stamps it).
    pub time: i64,
    /// The connection's identities when it sent the request (ACL checks).
    pub auth: Arc<[Id]>,
    /// Whether those identities include the configured super user.
    pub super_user: bool,
    /// Shared: the log hands the same entry to replication and apply
    /// without copying its paths and data.
    #[serde(deserialize_with = "shared_op")]
    pub op: Arc<TxnOp>,
}

/// serde makes an `Arc<T>` from a `Box<T>`, one allocation and copy more
/// for every entry and forwarded write decoded; this moves the op into
/// its `Arc` at once. The encoding is the same.
fn shared_op<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<TxnOp>, D::Error> {
    TxnOp::deserialize(d).map(Arc::new)
}

/// A write operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOp {
    CreateSession {
        timeout: i32,
        #[serde(with = "serde_bytes")]
        passwd: Vec<u8>,
    },
    /// Closed by the client, or expired by the leader: the same effect.
    CloseSession,
    /// A client resumed the session on another member (`Txn::owner`);
    /// writes through the member it left are refused from here on.
    ClaimSession,
    /// A create as logs before null data were written (data never null).
    /// Kept in its place so those logs decode; apply reads it as `Create`.
    CreateNonNull {
        path: String,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        acl: Vec<Acl>,
        flags: i32,
        ttl: i64,
    },
    Delete {
        path: String,
        version: i32,
    },
    /// A setData as logs before null data were written; apply reads it as
    /// `SetData`.
    SetDataNonNull {
        path: String,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        version: i32,
    },
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    /// Version check; only meaningful inside a multi.
    Check {
        path: String,
        version: i32,
    },
    Multi(Vec<TxnOp>),
    /// Remove an empty container or expired TTL node (leader's cleanup).
    ReapNode {
        path: String,
    },
    /// The leader of `term` found the session past its deadline. Closes
    /// it like `CloseSession`, but only if the entry was appended in that
    /// same term: a leader deposed since it decided cannot close anything.
    /// (Last variant, so logs written before it still decode.)
    ExpireSession {
        term: u64,
    },
    /// `data` `None` is null data, kept apart from empty.
    Create {
        path: String,
        #[serde(with = "serde_bytes")]
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        flags: i32,
        ttl: i64,
    },
    SetData {
        path: String,
        #[serde(with = "serde_bytes")]
        data: Option<Vec<u8>>,
        version: i32,
    },
    /// The op (a create, setData or multi), with quota hard limits
    /// enforced: the member that took it had `enforceQuota=true`, so every
    /// member applies the same check.
    EnforceQuota(Box<TxnOp>),
}

/// The outcome of one applied entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    Session,
    Create {
        path: String,
        stat: Stat,
    },
    Delete,
    SetData {
        stat: Stat,
    },
    SetAcl {
        stat: Stat,
    },
    Check,
    Multi(Vec<OpResult>),
    /// A ZooKeeper error code.
    Failed(i32),
}

/// One op's outcome inside a multi.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpResult {
    Create {
        path: String,
        stat: Stat,
    },
    Delete,
    SetData {
        stat: Stat,
    },
    Check,
    /// Error code (0 for ops rolled back before the failing one).
    Error(i32),
}

impl OpResult {
    pub(crate) fn from_txn_result(r: TxnResult) -> OpResult {
        match r {
            TxnResult::Create { path, stat } => OpResult::Create { path, stat },
            TxnResult::Delete => OpResult::Delete,
            TxnResult::SetData { stat } => OpResult::SetData { stat },
            TxnResult::Check => OpResult::Check,
            TxnResult::Failed(c) => OpResult::Error(c),
            TxnResult::Session | TxnResult::SetAcl { .. } | TxnResult::Multi(_) => {
                OpResult::Error(-2)
            }
        }
    }
}
