//! The replicated state machine: the DataTree plus the session table.
//! `apply(zxid, txn)` is deterministic: it reads no clock, no disk, no
//! network and no local liveness; time, session and identities arrive in the
//! [`Txn`] the leader stamped. Same log, same state, same replies, errors
//! included, on every member.

pub mod read;
mod txn;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::tree::{self, DataTree};
use crate::types::{perms, CreateMode, EventType, SessionId, Zxid};
use crate::Error;
pub use txn::{OpResult, Txn, TxnOp, TxnResult};

/// A session as the replicated state knows it. Liveness (last heard) is not
/// here: only the leader's session tracker keeps that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub timeout: i32,
    pub passwd: Vec<u8>,
    /// The member that created or last claimed it (`Txn::owner`).
    pub owner: u64,
}

/// Where ZooKeeper publishes the ensemble configuration.
pub const CONFIG_NODE: &str = "/zookeeper/config";

/// A change that watches may observe: (path, event type).
pub type Trigger = (String, EventType);

/// The outcome of applying one entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub result: TxnResult,
    pub triggers: Vec<Trigger>,
}

/// Everything the log replicates. Cloning is cheap (persistent maps), which
/// is how snapshots and multi rollbacks work.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZkState {
    pub tree: DataTree,
    pub sessions: imbl::OrdMap<SessionId, Session>,
    /// zxid of the last applied entry (0 before any).
    pub last_zxid: Zxid,
    /// Leader time of the last applied client entry: the mtime of changes
    /// that carry no time of their own (membership).
    #[serde(default)]
    pub last_time: i64,
}

/// A state as snapshots before null data stored it; read only.
#[derive(Deserialize)]
pub struct ZkStateNonNull {
    tree: crate::tree::TreeNonNull,
    sessions: imbl::OrdMap<SessionId, Session>,
    last_zxid: Zxid,
    #[serde(default)]
    last_time: i64,
}

impl TryFrom<ZkStateNonNull> for ZkState {
    type Error = Error;

    fn try_from(s: ZkStateNonNull) -> Result<ZkState, Error> {
        Ok(ZkState {
            tree: s.tree.try_into()?,
            sessions: s.sessions,
            last_zxid: s.last_zxid,
            last_time: s.last_time,
        })
    }
}

impl ZkState {
    pub fn new() -> ZkState {
        ZkState {
            tree: DataTree::new(),
            sessions: imbl::OrdMap::new(),
            last_zxid: 0,
            last_time: 0,
        }
    }

    /// Applies the log entry at `zxid` that a leader of `term` appended.
    /// A session expiry decided in another term is fenced out: it changes
    /// nothing but the last zxid, on every member alike.
    pub fn apply_logged(&mut self, zxid: Zxid, term: u64, txn: &Txn) -> Applied {
        match *txn.op {
            TxnOp::ExpireSession { term: decided } if decided != term => {
                self.last_zxid = zxid;
                Applied {
                    result: TxnResult::Failed(Error::SessionMoved.code()),
                    triggers: vec![],
                }
            }
            _ => self.apply(zxid, txn),
        }
    }

    /// Applies one entry at `zxid` (an expiry is taken as decided in the
    /// entry's term; [`ZkState::apply_logged`] checks that).
    pub fn apply(&mut self, zxid: Zxid, txn: &Txn) -> Applied {
        self.last_zxid = zxid;
        self.last_time = self.last_time.max(txn.time);
        let mut triggers = Vec::new();
        let (op, quota) = match &*txn.op {
            TxnOp::EnforceQuota(op) => (&**op, true),
            op => (op, false),
        };
        let result = match op {
            TxnOp::CreateSession { timeout, passwd } => self.create_session(txn, *timeout, passwd),
            TxnOp::ClaimSession => self.claim_session(txn),
            TxnOp::CloseSession | TxnOp::ExpireSession { .. } => match self.check_session(txn) {
                Ok(()) => self.close_session(txn.session, zxid, &mut triggers),
                Err(e) => TxnResult::Failed(e.code()),
            },
            TxnOp::Multi(ops) => self.apply_multi(zxid, txn, ops, quota, &mut triggers),
            TxnOp::ReapNode { path } => self.reap(zxid, txn.time, path, &mut triggers),
            op => match self.check_session(txn) {
                Err(e) => TxnResult::Failed(e.code()),
                Ok(()) => match apply_op(&mut self.tree, zxid, txn, op, quota, &mut triggers) {
                    Ok(r) => r,
                    Err(e) => TxnResult::Failed(e.code()),
                },
            },
        };
        Applied { result, triggers }
    }

    /// A membership change at `zxid`: `/zookeeper/config` takes the new
    /// configuration text (its mzxid is the config version).
    pub fn set_config(&mut self, zxid: Zxid, text: &str) -> Vec<Trigger> {
        self.last_zxid = zxid;
        let data = Bytes::from(text.as_bytes().to_vec());
        match self
            .tree
            .set_data(CONFIG_NODE, Some(data), -1, zxid, self.last_time)
        {
            Ok(_) => vec![(CONFIG_NODE.to_string(), EventType::NodeDataChanged)],
            Err(_) => vec![],
        }
    }

    /// The session must exist, and a client's write must come through the
    /// member that owns it (ZooKeeper's SessionMoved check).
    fn check_session(&self, txn: &Txn) -> Result<(), Error> {
        if txn.session == 0 {
            return Ok(());
        }
        match self.sessions.get(&txn.session) {
            None => Err(Error::SessionExpired),
            Some(s) if txn.owner != 0 && s.owner != txn.owner => Err(Error::SessionMoved),
            Some(_) => Ok(()),
        }
    }

    fn create_session(&mut self, txn: &Txn, timeout: i32, passwd: &[u8]) -> TxnResult {
        if self.sessions.contains_key(&txn.session) {
            return TxnResult::Failed(Error::NodeExists.code());
        }
        self.sessions.insert(
            txn.session,
            Session {
                timeout,
                passwd: passwd.to_vec(),
                owner: txn.owner,
            },
        );
        TxnResult::Session
    }

    fn claim_session(&mut self, txn: &Txn) -> TxnResult {
        match self.sessions.get_mut(&txn.session) {
            Some(s) => {
                s.owner = txn.owner;
                TxnResult::Session
            }
            None => TxnResult::Failed(Error::SessionExpired.code()),
        }
    }

    fn close_session(
        &mut self,
        id: SessionId,
        zxid: Zxid,
        triggers: &mut Vec<Trigger>,
    ) -> TxnResult {
        if self.sessions.remove(&id).is_none() {
            return TxnResult::Failed(Error::SessionExpired.code());
        }
        for path in self.tree.kill_session(id, zxid) {
            push_delete_triggers(&path, triggers);
        }
        TxnResult::Session
    }

    /// All-or-nothing: ops run against a clone of the tree, which replaces
    /// the tree only if every op succeeded.
    fn apply_multi(
        &mut self,
        zxid: Zxid,
        txn: &Txn,
        ops: &[TxnOp],
        quota: bool,
        triggers: &mut Vec<Trigger>,
    ) -> TxnResult {
        if let Err(e) = self.check_session(txn) {
            return TxnResult::Failed(e.code());
        }
        let mut scratch = self.tree.clone();
        let mut pending = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let outcome = match op {
                TxnOp::Multi(_)
                | TxnOp::CreateSession { .. }
                | TxnOp::ClaimSession
                | TxnOp::CloseSession
                | TxnOp::ExpireSession { .. }
                | TxnOp::EnforceQuota(_)
                | TxnOp::ReapNode { .. } => Err(Error::BadArguments),
                op => apply_op(&mut scratch, zxid, txn, op, quota, &mut pending),
            };
            match outcome {
                Ok(r) => results.push(OpResult::from_txn_result(r)),
                Err(e) => return TxnResult::Multi(failed_multi(ops.len(), i, e)),
            }
        }
        self.tree = scratch;
        triggers.extend(pending);
        TxnResult::Multi(results)
    }

    /// Removes an empty container or an expired TTL node, if it still is one
    /// at this point of the log (the leader proposed it from its view).
    fn reap(&mut self, zxid: Zxid, now: i64, path: &str, triggers: &mut Vec<Trigger>) -> TxnResult {
        if !self.tree.is_reapable(path, now) {
            return TxnResult::Failed(Error::BadVersion.code());
        }
        match self.tree.delete(path, -1, zxid) {
            Ok(()) => {
                push_delete_triggers(path, triggers);
                TxnResult::Delete
            }
            Err(e) => TxnResult::Failed(e.code()),
        }
    }
}

/// ZooKeeper's multi failure shape: ops before the failing one report Ok (0),
/// the failing one its error, the rest RuntimeInconsistency.
fn failed_multi(n: usize, failed: usize, err: Error) -> Vec<OpResult> {
    (0..n)
        .map(|i| match i.cmp(&failed) {
            std::cmp::Ordering::Less => OpResult::Error(0),
            std::cmp::Ordering::Equal => OpResult::Error(err.code()),
            std::cmp::Ordering::Greater => OpResult::Error(Error::RuntimeInconsistency.code()),
        })
        .collect()
}

pub(crate) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn push_delete_triggers(path: &str, triggers: &mut Vec<Trigger>) {
    triggers.push((path.to_string(), EventType::NodeDeleted));
    triggers.push((parent_of(path).to_string(), EventType::NodeChildrenChanged));
}

/// One write op against `tree`, with ZooKeeper's checks in ZooKeeper's order.
/// `quota`: refuse a create or setData past a hard quota limit.
fn apply_op(
    tree: &mut DataTree,
    zxid: Zxid,
    txn: &Txn,
    op: &TxnOp,
    quota: bool,
    triggers: &mut Vec<Trigger>,
) -> Result<TxnResult, Error> {
    match op {
        TxnOp::Create {
            path,
            data,
            acl,
            flags,
            ttl,
        } => {
            // ZooKeeper's order: mode and TTL, the parent path, ACL fixup,
            // parent lookup and CREATE permission, then the tree's checks.
            let mode = CreateMode::from_flag(*flags).ok_or(Error::BadArguments)?;
            tree::validate_ttl(mode, *ttl)?;
            if mode.is_ephemeral() && txn.session == 0 {
                return Err(Error::BadArguments);
            }
            let (parent, _) = tree::split_parent(path)?;
            let acl = tree::fix_acl(acl, &txn.auth)?;
            tree.check_acl(parent, perms::CREATE, &txn.auth, txn.super_user)?;
            if quota {
                tree.check_quota(path, data.as_ref().map_or(0, Vec::len) as i64, 1)?;
            }
            let (actual, stat) = tree.create(
                path,
                data.clone().map(Bytes::from),
                &acl,
                mode,
                *ttl,
                txn.session,
                zxid,
                txn.time,
            )?;
            triggers.push((actual.clone(), EventType::NodeCreated));
            triggers.push((
                parent_of(&actual).to_string(),
                EventType::NodeChildrenChanged,
            ));
            Ok(TxnResult::Create { path: actual, stat })
        }
        TxnOp::CreateNonNull {
            path,
            data,
            acl,
            flags,
            ttl,
        } => {
            let op = TxnOp::Create {
                path: path.clone(),
                data: Some(data.clone()),
                acl: acl.clone(),
                flags: *flags,
                ttl: *ttl,
            };
            apply_op(tree, zxid, txn, &op, quota, triggers)
        }
        TxnOp::SetDataNonNull {
            path,
            data,
            version,
        } => {
            let op = TxnOp::SetData {
                path: path.clone(),
                data: Some(data.clone()),
                version: *version,
            };
            apply_op(tree, zxid, txn, &op, quota, triggers)
        }
        TxnOp::Delete { path, version } => {
            // ZooKeeper only checks the parent here: "/a/" is NoNode.
            tree.check_acl(parent_of(path), perms::DELETE, &txn.auth, txn.super_user)?;
            tree.delete(path, *version, zxid)?;
            push_delete_triggers(path, triggers);
            Ok(TxnResult::Delete)
        }
        TxnOp::SetData {
            path,
            data,
            version,
        } => {
            tree::validate_path(path, false)?;
            if quota {
                // NoAuth before QuotaExceeded, as in ZooKeeper.
                tree.check_acl(path, perms::WRITE, &txn.auth, txn.super_user)?;
                let grow = data.as_ref().map_or(0, Vec::len) as i64 - tree.data_len(path)? as i64;
                tree.check_quota(path, grow, 0)?;
            }
            // Checked already when quotas are: once is enough.
            let may_write = |acl: &[crate::Acl]| match quota {
                true => Ok(()),
                false => tree::check_acl_list(acl, perms::WRITE, &txn.auth, txn.super_user),
            };
            let data = data.clone().map(Bytes::from);
            let stat = tree.set_data_if(path, data, *version, zxid, txn.time, may_write)?;
            triggers.push((path.clone(), EventType::NodeDataChanged));
            Ok(TxnResult::SetData { stat })
        }
        TxnOp::SetAcl { path, acl, version } => {
            tree::validate_path(path, false)?;
            let acl = tree::fix_acl(acl, &txn.auth)?;
            tree.check_acl(path, perms::ADMIN, &txn.auth, txn.super_user)?;
            let stat = tree.set_acl(path, &acl, *version)?;
            Ok(TxnResult::SetAcl { stat })
        }
        TxnOp::Check { path, version } => {
            tree::validate_path(path, false)?;
            tree.check_acl(path, perms::READ, &txn.auth, txn.super_user)?;
            tree.check_version(path, *version)?;
            Ok(TxnResult::Check)
        }
        _ => Err(Error::BadArguments),
    }
}

#[cfg(test)]
mod tests;
