//! ZooKeeper's data as its own server holds it while loading: sessions with
//! timeouts, and every znode with data, ACL and persisted stat. Transactions
//! apply as ZooKeeper's `DataTree.processTxn` applies them on replay: the
//! log already carries the leader's outcome (final path, parent cversion,
//! new versions), and failures from the fuzzy snapshot overlap are ignored.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::tree::{EphemeralType, StatPersisted};
use crate::Acl;

/// One znode as ZooKeeper persists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZNode {
    /// `None` is null data, which ZooKeeper keeps apart from empty.
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub stat: StatPersisted,
}

/// A ZooKeeper database: what a snapshot holds, then each txn applied.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// Session id to timeout (ZooKeeper persists no more of a session).
    pub sessions: BTreeMap<i64, i32>,
    /// By path; the root is "/".
    pub nodes: HashMap<String, ZNode>,
    /// Paths of ephemeral nodes by owning session, for closeSession.
    ephemerals: HashMap<i64, BTreeSet<String>>,
    /// The zxid of the last applied txn, or the snapshot's.
    pub last_zxid: i64,
    /// The newest time seen in a txn header or a node's mtime.
    pub last_time: i64,
}

/// A transaction's header (`TxnHeader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnHeader {
    pub client_id: i64,
    pub cxid: i32,
    pub zxid: i64,
    pub time: i64,
    pub kind: i32,
}

/// A logged transaction, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZkTxn {
    CreateSession {
        timeout: i32,
    },
    /// `paths` is CloseSessionTxn's list when the log carries one (3.6+).
    CloseSession {
        paths: Option<Vec<String>>,
    },
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        kind: NodeKind,
        /// -1 in logs written before 3.3 (CreateTxnV0): derive it.
        parent_cversion: i32,
    },
    Delete {
        path: String,
    },
    /// setData, and reconfig (which sets `/zookeeper/config`).
    SetData {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    },
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    /// check, or an error txn: nothing changes.
    Nothing,
    /// A multi whose ops all succeeded; one that failed logs error ops only.
    Multi(Vec<ZkTxn>),
}

/// What kind of owner a created node gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    /// Owned by the txn's session.
    Ephemeral,
    Container,
    /// The ephemeralOwner value that encodes the TTL.
    Ttl(i64),
}

impl Image {
    /// Adds a snapshot's node, indexing it as an ephemeral if it is one.
    pub fn insert(&mut self, path: String, node: ZNode) {
        self.index(&path, node.stat.ephemeral_owner);
        self.last_time = self.last_time.max(node.stat.mtime);
        self.nodes.insert(path, node);
    }

    fn index(&mut self, path: &str, owner: i64) {
        if EphemeralType::of(owner) == EphemeralType::Normal {
            let set = self.ephemerals.entry(owner).or_default();
            set.insert(path.to_string());
        }
    }

    /// Applies one logged transaction; returns whether it changed anything
    /// the way the log says (false: ignored, as ZooKeeper ignores replay
    /// failures in the fuzzy range).
    pub fn apply(&mut self, hdr: &TxnHeader, txn: &ZkTxn) -> bool {
        self.last_zxid = hdr.zxid;
        self.last_time = self.last_time.max(hdr.time);
        match txn {
            ZkTxn::CreateSession { timeout } => {
                self.sessions.insert(hdr.client_id, *timeout);
                true
            }
            ZkTxn::CloseSession { paths } => {
                self.sessions.remove(&hdr.client_id);
                self.kill_session(hdr.client_id, paths.as_deref(), hdr.zxid);
                true
            }
            // Every op applies, even after one fails (no short circuit).
            ZkTxn::Multi(ops) => ops
                .iter()
                .map(|op| self.apply(hdr, op))
                .collect::<Vec<_>>()
                .into_iter()
                .all(|ok| ok),
            ZkTxn::Nothing => true,
            op => self.apply_node_op(hdr, op),
        }
    }

    fn apply_node_op(&mut self, hdr: &TxnHeader, txn: &ZkTxn) -> bool {
        match txn {
            ZkTxn::Create {
                path,
                data,
                acl,
                kind,
                parent_cversion,
            } => {
                let owner = match kind {
                    NodeKind::Persistent => 0,
                    NodeKind::Ephemeral => hdr.client_id,
                    NodeKind::Container => crate::CONTAINER_OWNER,
                    NodeKind::Ttl(owner) => *owner,
                };
                let node = ZNode {
                    data: data.clone(),
                    acl: acl.clone(),
                    stat: StatPersisted::new(hdr.zxid, hdr.time, owner),
                };
                self.create(path, node, *parent_cversion)
            }
            ZkTxn::Delete { path } => self.delete(path, hdr.zxid),
            ZkTxn::SetData {
                path,
                data,
                version,
            } => self.nodes.get_mut(path).is_some_and(|n| {
                n.data = data.clone();
                n.stat.mtime = hdr.time;
                n.stat.mzxid = hdr.zxid;
                n.stat.version = *version;
                true
            }),
            ZkTxn::SetAcl { path, acl, version } => self.nodes.get_mut(path).is_some_and(|n| {
                n.acl = acl.clone();
                n.stat.aversion = *version;
                true
            }),
            _ => true,
        }
    }

    /// `DataTree.createNode` on replay: an existing node only takes the
    /// txn's ACL; the parent's cversion and pzxid only ever move forward.
    fn create(&mut self, path: &str, node: ZNode, parent_cversion: i32) -> bool {
        let parent_path = parent_of(path);
        let Some(parent) = self.nodes.get(parent_path) else {
            return false;
        };
        let cversion = match parent_cversion {
            -1 => parent.stat.cversion.wrapping_add(1),
            v => v,
        };
        if let Some(existing) = self.nodes.get_mut(path) {
            existing.acl = node.acl;
            return false;
        }
        let parent = self.nodes.get_mut(parent_path).expect("looked up above");
        if cversion > parent.stat.cversion {
            parent.stat.cversion = cversion;
            parent.stat.pzxid = node.stat.czxid;
        }
        self.index(path, node.stat.ephemeral_owner);
        self.nodes.insert(path.to_string(), node);
        true
    }

    /// `DataTree.deleteNode` on replay: the parent's pzxid moves forward
    /// even when the child is already gone.
    fn delete(&mut self, path: &str, zxid: i64) -> bool {
        let Some(parent) = self.nodes.get_mut(parent_of(path)) else {
            return false;
        };
        parent.stat.pzxid = parent.stat.pzxid.max(zxid);
        let Some(node) = self.nodes.remove(path) else {
            return false;
        };
        let owner = node.stat.ephemeral_owner;
        if let Some(set) = self.ephemerals.get_mut(&owner) {
            set.remove(path);
        }
        true
    }

    /// Deletes the ephemerals of sessions the table no longer holds, at the
    /// last zxid, as ZooKeeper's `loadData` does: nobody could ever close
    /// those sessions, so their nodes would stay forever. Returns how many.
    pub fn drop_orphan_ephemerals(&mut self) -> usize {
        let orphans: Vec<i64> = (self.ephemerals.keys())
            .filter(|s| !self.sessions.contains_key(s))
            .copied()
            .collect();
        let before = self.nodes.len();
        for session in orphans {
            self.kill_session(session, None, self.last_zxid);
        }
        before - self.nodes.len()
    }

    /// Deletes the listed paths, then whatever else the session owns.
    fn kill_session(&mut self, session: i64, listed: Option<&[String]>, zxid: i64) {
        for path in listed.unwrap_or_default() {
            self.delete_if_owned(path, session, zxid);
        }
        let rest = self.ephemerals.remove(&session).unwrap_or_default();
        for path in rest {
            self.delete_if_owned(&path, session, zxid);
        }
    }

    fn delete_if_owned(&mut self, path: &str, session: i64, zxid: i64) {
        let owned = self
            .nodes
            .get(path)
            .is_some_and(|n| n.stat.ephemeral_owner == session);
        if owned {
            self.delete(path, zxid);
        }
    }
}

/// The parent of an absolute path ("/" for a child of the root).
pub(crate) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(zxid: i64, owner: i64) -> ZNode {
        ZNode {
            data: Some(vec![]),
            acl: Acl::open_unsafe(),
            stat: StatPersisted::new(zxid, 0, owner),
        }
    }

    fn hdr(session: i64, zxid: i64) -> TxnHeader {
        TxnHeader {
            client_id: session,
            cxid: 0,
            zxid,
            time: zxid * 10,
            kind: 0,
        }
    }

    fn create(path: &str, kind: NodeKind, parent_cversion: i32) -> ZkTxn {
        ZkTxn::Create {
            path: path.into(),
            data: None,
            acl: Acl::read_unsafe(),
            kind,
            parent_cversion,
        }
    }

    fn image() -> Image {
        let mut image = Image::default();
        image.insert("/".into(), node(0, 0));
        image.insert("/a".into(), node(1, 0));
        image.sessions.insert(7, 4000);
        image
    }

    #[test]
    fn create_takes_the_logged_parent_cversion_and_v0_derives_it() {
        let mut image = image();
        assert!(image.apply(&hdr(7, 2), &create("/a/e", NodeKind::Ephemeral, 5)));
        let a = &image.nodes["/a"].stat;
        assert_eq!((a.cversion, a.pzxid), (5, 2));
        assert_eq!(image.nodes["/a/e"].stat.ephemeral_owner, 7);
        assert!(image.apply(&hdr(7, 3), &create("/a/f", NodeKind::Persistent, -1)));
        assert_eq!(image.nodes["/a"].stat.cversion, 6);
        assert_eq!(image.nodes["/a/f"].data, None);
    }

    #[test]
    fn fuzzy_replays_change_only_what_zookeeper_changes() {
        let mut image = image();
        // An existing node keeps its stat but takes the txn's ACL.
        assert!(!image.apply(&hdr(0, 4), &create("/a", NodeKind::Persistent, 1)));
        assert_eq!(image.nodes["/a"].stat.czxid, 1);
        assert_eq!(image.nodes["/a"].acl, Acl::read_unsafe());
        // A delete of a node already gone still moves the parent's pzxid.
        let gone = ZkTxn::Delete { path: "/b".into() };
        assert!(!image.apply(&hdr(0, 9), &gone));
        assert_eq!(image.nodes["/"].stat.pzxid, 9);
    }

    #[test]
    fn close_session_removes_its_ephemerals_only() {
        let mut image = image();
        image.apply(&hdr(7, 2), &create("/a/e", NodeKind::Ephemeral, -1));
        image.apply(&hdr(8, 3), &create("/a/other", NodeKind::Ephemeral, -1));
        image.apply(&hdr(7, 4), &ZkTxn::CloseSession { paths: None });
        assert!(!image.sessions.contains_key(&7));
        assert!(!image.nodes.contains_key("/a/e"));
        assert!(image.nodes.contains_key("/a/other"));
        // Session 8 was never created: its node goes at the last zxid.
        assert_eq!(image.drop_orphan_ephemerals(), 1);
        assert!(!image.nodes.contains_key("/a/other"));
        assert_eq!(image.nodes["/a"].stat.pzxid, 4);
    }

    #[test]
    fn multi_applies_each_op_at_its_zxid() {
        let mut image = image();
        let set = ZkTxn::SetData {
            path: "/a".into(),
            data: Some(b"v".to_vec()),
            version: 3,
        };
        let multi = ZkTxn::Multi(vec![create("/a/m", NodeKind::Container, -1), set]);
        assert!(image.apply(&hdr(7, 5), &multi));
        let a = &image.nodes["/a"];
        assert_eq!(
            (a.data.as_deref(), a.stat.version, a.stat.mzxid),
            (Some(&b"v"[..]), 3, 5)
        );
        let m = &image.nodes["/a/m"].stat;
        assert_eq!((m.czxid, m.ephemeral_owner), (5, crate::CONTAINER_OWNER));
        assert_eq!(image.last_zxid, 5);
    }
}
