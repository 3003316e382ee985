//! The DataTree: every znode with its data, ACL and stat, plus the indexes
//! ZooKeeper keeps beside them (ephemerals per session, containers, TTL
//! nodes). Pure and deterministic: no clock, network, disk or randomness;
//! zxids, times and session ids are arguments, so members applying the same
//! entries hold equal trees. Watches and quotas live elsewhere.
//!
//! The tree is nested: each node owns its children in a persistent map
//! keyed by name (`children.rs`), so no full path is stored and a lookup compares short
//! names level by level. `clone` is O(1) (the root's `Arc`): the state
//! machine snapshots a clone and applies a multi to a clone it then keeps or
//! drops; a write to a shared tree copies only the nodes and map blocks on
//! its way down. The maps are ordered, not hashed, so iteration (snapshots,
//! cleanup candidates) is the same on every member.
//!
//! Write methods check what ZooKeeper's `PrepRequestProcessor` checks, in
//! its order, except ACLs, which need the session's ids. A caller mirroring
//! ZooKeeper exactly runs, for create: [`validate_ttl`], [`split_parent`],
//! [`fix_acl`], [`DataTree::check_acl`] on the parent (NoNode, then NoAuth),
//! then [`DataTree::create`]; for delete: [`DataTree::check_acl`] on the
//! parent, then [`DataTree::delete`]; for setData/setACL/check:
//! [`validate_path`], ([`fix_acl`],) [`DataTree::check_acl`], then the write.

mod acl;
mod build;
mod children;
mod node;
mod path;
mod quota;
mod snapshot;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::Bytes;
use imbl::{OrdMap, OrdSet};

use crate::{
    ttl_owner, Acl, CreateMode, Error, Id, Result, SessionId, Stat, Zxid, CONTAINER_OWNER,
};

use acl::intern_acl;
pub use acl::{check_acl_list, digest, fix_acl, is_auth_scheme};
pub use node::{EphemeralType, StatPersisted};
pub use path::{is_special_path, join_child, split_parent, validate_path, SPECIAL_PATHS};
pub use snapshot::{NodeRecord, TreeNonNull};

use node::Node;

/// All znodes and their indexes. Cheap to clone; equal trees compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTree {
    /// "/", owning every other node through its children. Nodes sit behind
    /// an `Arc`, so copying a map block on write copies pointers; a node is
    /// copied only when a clone shares it.
    root: Arc<Node>,
    /// Number of znodes, the root included.
    count: usize,
    ephemerals: OrdMap<SessionId, OrdSet<Arc<str>>>,
    containers: OrdSet<Arc<str>>,
    ttls: OrdSet<Arc<str>>,
    /// Sum of path lengths and data lengths, kept as ZooKeeper's
    /// `nodeDataSize` is so `mntr` need not walk the tree.
    data_size: i64,
    /// Paths with a quota (a `/zookeeper/quota/<path>/zookeeper_limits`).
    quota_roots: OrdSet<Arc<str>>,
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

/// Checks the TTL argument against the mode (`EphemeralType.validateTTL`):
/// TTL modes need 0 < ttl <= 2^40-1 ms, other modes a negative ttl.
pub fn validate_ttl(mode: CreateMode, ttl: i64) -> Result<()> {
    let ok = if mode.is_ttl() {
        ttl_owner(ttl).is_some()
    } else {
        ttl < 0
    };
    ok.then_some(()).ok_or(Error::BadArguments)
}

/// The ephemeralOwner a new node of `mode` gets.
fn owner_for(mode: CreateMode, ttl: i64, session: SessionId) -> Result<i64> {
    validate_ttl(mode, ttl)?;
    Ok(match mode {
        CreateMode::Container => CONTAINER_OWNER,
        m if m.is_ttl() => ttl_owner(ttl).ok_or(Error::BadArguments)?,
        m if m.is_ephemeral() => session,
        _ => 0,
    })
}

/// ZooKeeper counts a path's length in UTF-16 units (Java's String.length).
fn node_size(path: &str, data_len: usize) -> i64 {
    (path.encode_utf16().count() + data_len) as i64
}

fn check_version(expected: i32, actual: i32) -> Result<()> {
    if expected != -1 && expected != actual {
        return Err(Error::BadVersion);
    }
    Ok(())
}

impl DataTree {
    /// A fresh tree as ZooKeeper starts one: "/", "/zookeeper",
    /// "/zookeeper/quota" (open ACL) and "/zookeeper/config" (read-only).
    pub fn new() -> DataTree {
        let open = intern_acl(&Acl::open_unsafe());
        let fresh = || Node::new(Some(Bytes::new()), open.clone(), StatPersisted::default());
        let mut tree = DataTree::with_root(fresh());
        for path in ["/zookeeper", "/zookeeper/quota"] {
            tree.link(path, fresh()).expect("parents are added first");
        }
        // ZooKeeper applies this ACL with setACL(.., version -1), which
        // stores -1 as the aversion (ZOOKEEPER-2014).
        let stat = StatPersisted {
            aversion: -1,
            ..StatPersisted::default()
        };
        let config = Node::new(Some(Bytes::new()), intern_acl(&Acl::read_unsafe()), stat);
        tree.link("/zookeeper/config", config)
            .expect("parent exists");
        tree
    }

    /// The root alone, no indexes; for building a tree.
    fn with_root(root: Node) -> DataTree {
        DataTree {
            data_size: node_size("/", root.data_len()),
            root: Arc::new(root),
            count: 1,
            ephemerals: OrdMap::new(),
            containers: OrdSet::new(),
            ttls: OrdSet::new(),
            quota_roots: OrdSet::new(),
        }
    }

    /// Adds `node` at `path` under its existing parent, without touching the
    /// parent's stat, and indexes it. DataInconsistency if the parent is
    /// missing or the path taken.
    fn link(&mut self, path: &str, node: Node) -> Result<()> {
        let (parent, name) = split_parent(path)?;
        let parent = self
            .node_mut(parent)
            .map_err(|_| Error::DataInconsistency)?;
        let owner = node.stat.ephemeral_owner;
        let size = node_size(path, node.data_len());
        if !parent.children.insert_new(name, Arc::new(node)) {
            return Err(Error::DataInconsistency);
        }
        self.counted(path, owner, size);
        Ok(())
    }

    /// Counts and indexes a node just linked under its parent.
    fn counted(&mut self, path: &str, owner: i64, size: i64) {
        self.count += 1;
        self.data_size += size;
        self.index_add(path, owner);
    }

    fn index_add(&mut self, path: &str, owner: i64) {
        self.quota_index(path, true);
        match EphemeralType::of(owner) {
            EphemeralType::Container => drop(self.containers.insert(path.into())),
            EphemeralType::Ttl(_) => drop(self.ttls.insert(path.into())),
            EphemeralType::Normal => drop(
                self.ephemerals
                    .entry(owner)
                    .or_default()
                    .insert(path.into()),
            ),
            EphemeralType::Void => {}
        }
    }

    fn index_remove(&mut self, path: &str, owner: i64) {
        self.quota_index(path, false);
        match EphemeralType::of(owner) {
            EphemeralType::Container => drop(self.containers.remove(path)),
            EphemeralType::Ttl(_) => drop(self.ttls.remove(path)),
            EphemeralType::Normal => self.unindex_ephemeral(path, owner),
            EphemeralType::Void => {}
        }
    }

    fn unindex_ephemeral(&mut self, path: &str, owner: SessionId) {
        if let Some(set) = self.ephemerals.get_mut(&owner) {
            set.remove(path);
            if set.is_empty() {
                self.ephemerals.remove(&owner);
            }
        }
    }

    /// The node at `path`, found name by name from the root. NoNode for a
    /// path that is missing or not absolute.
    fn node(&self, path: &str) -> Result<&Node> {
        self.node_arc(path).map(|n| &**n)
    }

    fn node_arc(&self, path: &str) -> Result<&Arc<Node>> {
        let mut node = &self.root;
        for name in names(path)? {
            node = node.children.get(name).ok_or(Error::NoNode)?;
        }
        Ok(node)
    }

    /// The node at `path` for writing: it and each node above it are
    /// copied first where a clone shares them.
    fn node_mut(&mut self, path: &str) -> Result<&mut Node> {
        let mut node = Arc::make_mut(&mut self.root);
        for name in names(path)? {
            node = node.children.get_mut(name).ok_or(Error::NoNode)?;
        }
        Ok(node)
    }

    /// Creates a znode; returns its actual path (with the sequential suffix,
    /// the parent's count of child creations as `%010d`) and its Stat.
    /// Errors as ZooKeeper, in its order: BadArguments (ttl, path),
    /// InvalidACL (empty), NoNode (parent), BadArguments (final path),
    /// NodeExists, NoChildrenForEphemerals. `ttl` is negative unless `mode`
    /// is a TTL mode; `acl` should already have passed [`fix_acl`].
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        mode: CreateMode,
        ttl: i64,
        session: SessionId,
        zxid: Zxid,
        time: i64,
    ) -> Result<(String, Stat)> {
        let owner = owner_for(mode, ttl, session)?;
        let (parent_path, _) = split_parent(path)?;
        if acl.is_empty() {
            return Err(Error::InvalidAcl);
        }
        // One walk down, copying shared nodes on the way: on a failure
        // below, the copies equal what they copy.
        let parent = self.node_mut(parent_path)?;
        // Java's %010d: a wrapped negative counter keeps its sign, as here.
        let path = if mode.is_sequential() {
            format!("{path}{:010}", parent.stat.cversion)
        } else {
            path.to_string()
        };
        validate_path(&path, false)?;
        let (_, name) = split_parent(&path)?;
        // "/" is valid and splits into "/" and "", but is the root itself.
        if path == "/" {
            return Err(Error::NodeExists);
        }
        if EphemeralType::of(parent.stat.ephemeral_owner) == EphemeralType::Normal {
            // NodeExists comes first, as in ZooKeeper.
            let taken = parent.children.get(name).is_some();
            return Err(if taken {
                Error::NodeExists
            } else {
                Error::NoChildrenForEphemerals
            });
        }
        let node = Node::new(data, intern_acl(acl), StatPersisted::new(zxid, time, owner));
        let stat = node.client_stat();
        let (len, size) = (node.data_len(), node_size(&path, node.data_len()));
        if !parent.children.insert_new(name, Arc::new(node)) {
            return Err(Error::NodeExists);
        }
        parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
        parent.stat.pzxid = zxid;
        self.counted(&path, owner, size);
        self.quota_created(&path, len);
        Ok((path, stat))
    }

    /// Deletes a childless znode. `version` -1 matches any. BadArguments for
    /// ZooKeeper's own nodes; then NoNode (parent), NoNode, BadVersion,
    /// NotEmpty. The parent's client-visible cversion rises by one (one
    /// child fewer) and its pzxid becomes `zxid`.
    pub fn delete(&mut self, path: &str, version: i32, zxid: Zxid) -> Result<()> {
        let (parent, _) = self.deletable(path)?;
        self.node(parent)?;
        let node = self.node(path)?;
        check_version(version, node.stat.version)?;
        if !node.children.is_empty() {
            return Err(Error::NotEmpty);
        }
        self.unlink(path, zxid)
    }

    /// ZooKeeper's `getParentPathAndValidate`: a delete target needs a
    /// parent, no null char, and must not be one of ZooKeeper's nodes.
    fn deletable<'p>(&self, path: &'p str) -> Result<(&'p str, &'p str)> {
        if is_special_path(path) {
            return Err(Error::BadArguments);
        }
        split_parent(path)
    }

    /// Deletes an empty container or TTL node as the container manager does
    /// (`deleteContainer`): NotEmpty if it has children, BadVersion if it is
    /// an ephemeral node (it was replaced since it became a candidate).
    pub fn delete_container(&mut self, path: &str, zxid: Zxid) -> Result<()> {
        let (parent, _) = self.deletable(path)?;
        let node = self.node(path)?;
        if !node.children.is_empty() {
            return Err(Error::NotEmpty);
        }
        if EphemeralType::of(node.stat.ephemeral_owner) == EphemeralType::Normal {
            return Err(Error::BadVersion);
        }
        self.node(parent)?;
        self.unlink(path, zxid)
    }

    /// Removes an existing leaf and updates its parent and the indexes.
    fn unlink(&mut self, path: &str, zxid: Zxid) -> Result<()> {
        let (parent_path, name) = split_parent(path)?;
        let parent = self.node_mut(parent_path)?;
        let node = parent.children.remove(name).ok_or(Error::NoNode)?;
        // Never move pzxid back (ZooKeeper guards replays the same way).
        parent.pzxid_at_least(zxid);
        self.count -= 1;
        self.index_remove(path, node.stat.ephemeral_owner);
        self.data_size -= node_size(path, node.data_len());
        self.quota_moved(path, -(node.data_len() as i64), -1);
        Ok(())
    }

    /// Replaces a node's data: version+1, mzxid, mtime. BadArguments, NoNode,
    /// BadVersion.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Stat> {
        self.set_data_if(path, data, version, zxid, time, |_| Ok(()))
    }

    /// [`set_data`](Self::set_data) if `allowed` passes the node's ACL (its
    /// error comes after NoNode and before BadVersion, as ZooKeeper's
    /// NoAuth does): a client's write finds its node once, not once for
    /// the ACL check and again to change it.
    pub fn set_data_if(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: Zxid,
        time: i64,
        allowed: impl FnOnce(&[Acl]) -> Result<()>,
    ) -> Result<Stat> {
        validate_path(path, false)?;
        let node = self.node_mut(path)?;
        allowed(&node.acl)?;
        check_version(version, node.stat.version)?;
        let delta = data.as_ref().map_or(0, Bytes::len) as i64 - node.data_len() as i64;
        node.stat.version = node.stat.version.wrapping_add(1);
        node.stat.mzxid = zxid;
        node.stat.mtime = time;
        node.data = data;
        let stat = node.client_stat();
        self.data_size += delta;
        self.quota_moved(path, delta, 0);
        Ok(stat)
    }

    /// Replaces a node's ACL, checking and bumping aversion. BadArguments,
    /// InvalidACL (empty), NoNode, BadVersion. `acl` should have passed
    /// [`fix_acl`].
    pub fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat> {
        validate_path(path, false)?;
        if acl.is_empty() {
            return Err(Error::InvalidAcl);
        }
        let node = self.node_mut(path)?;
        check_version(version, node.stat.aversion)?;
        node.stat.aversion = node.stat.aversion.wrapping_add(1);
        node.acl = intern_acl(acl);
        Ok(node.client_stat())
    }

    /// The `check` op of a multi: BadArguments, NoNode, BadVersion.
    pub fn check_version(&self, path: &str, version: i32) -> Result<()> {
        validate_path(path, false)?;
        check_version(version, self.node(path)?.stat.version)
    }

    /// Removes every ephemeral node of `session`, in path order, as if each
    /// were deleted at `zxid`; returns their paths.
    pub fn kill_session(&mut self, session: SessionId, zxid: Zxid) -> Vec<String> {
        let Some(paths) = self.ephemerals.remove(&session) else {
            return Vec::new();
        };
        let mut gone = Vec::with_capacity(paths.len());
        for path in paths {
            // Ephemerals are leaves and indexed only while present.
            if self.unlink(&path, zxid).is_ok() {
                gone.push(path.to_string());
            }
        }
        gone
    }

    /// Whether `ids` may use `perm` on the node at `path`: NoNode, NoAuth.
    pub fn check_acl(&self, path: &str, perm: i32, ids: &[Id], is_super: bool) -> Result<()> {
        check_acl_list(&self.node(path)?.acl, perm, ids, is_super)
    }

    pub fn get_data(&self, path: &str) -> Result<(Option<Bytes>, Stat)> {
        let node = self.node(path)?;
        Ok((node.data.clone(), node.client_stat()))
    }

    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.node(path).ok().map(Node::client_stat)
    }

    pub fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let node = self.node(path)?;
        Ok((node.acl.to_vec(), node.client_stat()))
    }

    /// Child names, sorted (ZooKeeper returns them in hash order).
    pub fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        let node = self.node(path)?;
        let names = node.children.iter().map(|(n, _)| n.to_string()).collect();
        Ok((names, node.client_stat()))
    }

    /// Number of descendants of `path`, not counting itself
    /// (`getAllChildrenNumber`).
    pub fn all_children_number(&self, path: &str) -> Result<i32> {
        if path == "/" {
            return Ok(self.count as i32 - 1);
        }
        Ok(self.subtree(path)?.count() as i32 - 1)
    }

    /// The node at `path` and every node below it, in no stated order.
    fn subtree(&self, path: &str) -> Result<impl Iterator<Item = &Node>> {
        let mut stack = vec![self.node(path)?];
        Ok(std::iter::from_fn(move || {
            let n = stack.pop()?;
            stack.extend(n.children.iter().map(|(_, c)| &**c));
            Some(n)
        }))
    }

    /// The ephemeral paths `session` owns, sorted.
    pub fn ephemerals(&self, session: SessionId) -> Vec<String> {
        let set = self.ephemerals.get(&session);
        set.into_iter().flatten().map(|p| p.to_string()).collect()
    }

    /// Every session owning ephemerals, with its paths, sorted.
    pub fn all_ephemerals(&self) -> Vec<(SessionId, Vec<String>)> {
        let paths = |s: &OrdSet<Arc<str>>| s.iter().map(|p| p.to_string()).collect();
        self.ephemerals
            .iter()
            .map(|(id, s)| (*id, paths(s)))
            .collect()
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(OrdSet::len).sum()
    }

    /// Number of znodes, the root included. ZooKeeper's `zk_znode_count`
    /// also counts an alias of the root, so it reports one more.
    pub fn node_count(&self) -> usize {
        self.count
    }

    /// Sum over znodes of path length plus data length
    /// (`zk_approximate_data_size`).
    pub fn approximate_data_size(&self) -> i64 {
        self.data_size
    }

    /// Containers that had a child once and have none now, ready for
    /// [`DataTree::delete_container`] (ContainerManager's rule).
    pub fn empty_containers(&self) -> Vec<String> {
        self.candidates(&self.containers, Self::used_container)
    }

    /// Containers that never had a child and are older (by mtime) than
    /// `max_never_used_ms`; none when that is 0, ZooKeeper's default
    /// (`znode.container.maxNeverUsedIntervalMs`).
    pub fn unused_containers(&self, now: i64, max_never_used_ms: i64) -> Vec<String> {
        let stale = |n: &Node| n.stat.cversion == 0 && now - n.stat.mtime > max_never_used_ms;
        match max_never_used_ms {
            0 => Vec::new(),
            _ => self.candidates(&self.containers, stale),
        }
    }

    /// Childless TTL nodes not modified for longer than their TTL.
    pub fn expired_ttls(&self, now: i64) -> Vec<String> {
        self.candidates(&self.ttls, |n| Self::ttl_expired(n, now))
    }

    /// Whether `path` is, right now, one of [`Self::empty_containers`] or
    /// [`Self::expired_ttls`] (without listing them all).
    pub fn is_reapable(&self, path: &str, now: i64) -> bool {
        let Ok(n) = self.node(path) else {
            return false;
        };
        let due = match EphemeralType::of(n.stat.ephemeral_owner) {
            EphemeralType::Container => Self::used_container(n),
            EphemeralType::Ttl(_) => Self::ttl_expired(n, now),
            _ => false,
        };
        due && n.children.is_empty()
    }

    /// A container that once had a child.
    fn used_container(n: &Node) -> bool {
        n.stat.cversion > 0
    }

    /// A TTL node unmodified for longer than its TTL.
    fn ttl_expired(n: &Node, now: i64) -> bool {
        match EphemeralType::of(n.stat.ephemeral_owner) {
            EphemeralType::Ttl(ttl) => ttl != 0 && now - n.stat.mtime > ttl,
            _ => false,
        }
    }

    fn candidates(&self, set: &OrdSet<Arc<str>>, pick: impl Fn(&Node) -> bool) -> Vec<String> {
        let ready = |p: &&Arc<str>| self.node(p).is_ok_and(|n| n.children.is_empty() && pick(n));
        set.iter().filter(ready).map(|p| p.to_string()).collect()
    }
}

/// The names on the way from the root down to `path`: none for "/".
/// NoNode for a path that is not absolute.
fn names(path: &str) -> Result<impl Iterator<Item = &str>> {
    let rest = path.strip_prefix('/').ok_or(Error::NoNode)?;
    Ok(rest.split('/').filter(move |_| !rest.is_empty()))
}
