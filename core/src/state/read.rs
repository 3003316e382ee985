//! Reads against the applied state, with ZooKeeper's ACL checks. Pure: the
//! server takes the state lock, calls these, and registers any watch under
//! the same lock so no change slips between the read and the watch.

use bytes::Bytes;

use super::ZkState;
use crate::types::{perms, Acl, Id, SessionId, Stat};
use crate::Error;

/// A read on behalf of one connection's identities.
pub struct ReadView<'a> {
    pub state: &'a ZkState,
    pub auth: &'a [Id],
    pub super_user: bool,
}

impl ReadView<'_> {
    /// Reads are not path-validated by ZooKeeper: a malformed path is
    /// simply a node that does not exist.
    fn check(&self, path: &str, perm: i32) -> Result<(), Error> {
        self.state
            .tree
            .check_acl(path, perm, self.auth, self.super_user)
    }

    /// exists has no ACL check in ZooKeeper.
    pub fn exists(&self, path: &str) -> Result<Stat, Error> {
        self.state.tree.stat(path).ok_or(Error::NoNode)
    }

    pub fn get_data(&self, path: &str) -> Result<(Option<Bytes>, Stat), Error> {
        self.check(path, perms::READ)?;
        self.state.tree.get_data(path)
    }

    pub fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat), Error> {
        self.check(path, perms::READ)?;
        self.state.tree.get_children(path)
    }

    pub fn all_children_number(&self, path: &str) -> Result<i64, Error> {
        self.check(path, perms::READ)?;
        self.state.tree.all_children_number(path).map(i64::from)
    }

    /// READ or ADMIN may read an ACL; without ADMIN, digest hashes are
    /// redacted, as ZooKeeper 3.6+ does.
    pub fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat), Error> {
        self.check(path, perms::READ | perms::ADMIN)?;
        let (mut acl, stat) = self.state.tree.get_acl(path)?;
        let admin = self
            .state
            .tree
            .check_acl(path, perms::ADMIN, self.auth, self.super_user)
            .is_ok();
        if !admin {
            for a in acl.iter_mut().filter(|a| a.id.scheme == "digest") {
                let user = a.id.id.split(':').next().unwrap_or("").to_string();
                a.id.id = format!("{user}:x");
            }
        }
        Ok((acl, stat))
    }

    /// The session's ephemeral paths starting with `prefix`.
    pub fn ephemerals(&self, session: SessionId, prefix: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .state
            .tree
            .ephemerals(session)
            .into_iter()
            .filter(|p| p.starts_with(prefix))
            .collect();
        v.sort();
        v
    }
}
