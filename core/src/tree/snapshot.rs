//! The tree as snapshot data: a sequence of node records, depth first.
//! Children, indexes and sizes are derived, so they are rebuilt on load
//! rather than stored; that keeps snapshots small and unable to disagree
//! with themselves.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::node::{Name, Node, StatPersisted};
use super::DataTree;
use super::{node_size, split_parent};
use crate::{Acl, Error, Result};

/// One znode as a snapshot stores it (ZooKeeper's path + DataNode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub path: String,
    /// `None`: null data.
    #[serde(with = "opt_bytes_field")]
    pub data: Option<Bytes>,
    pub acl: Vec<Acl>,
    pub stat: StatPersisted,
}

impl DataTree {
    /// Every node as a record, parents before children.
    pub fn records(&self) -> impl Iterator<Item = NodeRecord> {
        let mut out = Vec::with_capacity(self.count);
        let _ = self.each_node(|path, n| {
            out.push(NodeRecord {
                path: path.to_string(),
                data: n.data.clone(),
                acl: n.acl.to_vec(),
                stat: n.stat,
            });
            Ok::<(), ()>(())
        });
        out.into_iter()
    }

    /// Calls `f` on every node with its path, depth first, children in name
    /// order, until it fails. One path buffer serves the whole walk, and
    /// the walk keeps its own stack, so a deep tree cannot overflow the
    /// thread's.
    pub(super) fn each_node<E>(
        &self,
        mut f: impl FnMut(&str, &Node) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut path = String::from("/");
        f(&path, &self.root)?;
        // Per open level: the length of its node's path, and the children
        // still to visit.
        let mut stack = vec![(1, self.root.children.iter())];
        while let Some((base, kids)) = stack.last_mut() {
            let Some((name, node)) = kids.next() else {
                stack.pop();
                continue;
            };
            path.truncate(*base);
            if *base > 1 {
                path.push('/'); // below the root, whose path is just "/"
            }
            path.push_str(name);
            f(&path, node)?;
            if !node.children.is_empty() {
                stack.push((path.len(), node.children.iter()));
            }
        }
        Ok(())
    }

    /// Rebuilds a tree from records in any order (a zkrs snapshot or an
    /// imported ZooKeeper one). DataInconsistency without a root, with a
    /// duplicate path or with a node whose parent is missing.
    ///
    /// Built bottom-up in one pass over the records sorted depth first:
    /// each node's children are complete when it is closed.
    pub fn from_records(records: impl IntoIterator<Item = NodeRecord>) -> Result<DataTree> {
        let mut records: Vec<NodeRecord> = records.into_iter().collect();
        // A zkrs snapshot is in order already: one pass checks it.
        if !records.is_sorted_by(|a, b| depth_first(&a.path, &b.path).is_lt()) {
            records.sort_unstable_by(|a, b| depth_first(&a.path, &b.path));
            if records.windows(2).any(|w| w[0].path == w[1].path) {
                return Err(Error::DataInconsistency);
            }
        }
        let mut records = records.into_iter();
        let root = records.next().filter(|r| r.path == "/");
        let root = root.ok_or(Error::DataInconsistency)?;
        let mut tree = DataTree::with_root(Node::new(None, Arc::default(), root.stat));
        tree.data_size += data_len(&root) as i64;
        // The open nodes from the root down to the last record.
        let mut open = vec![Open::new(root)];
        let mut acls = LastAcl::default();
        for r in records {
            let (parent, _) = split_parent(&r.path).map_err(|_| Error::DataInconsistency)?;
            while open.len() > 1 && open.last().is_some_and(|o| o.path != parent) {
                close(&mut open, &mut acls);
            }
            if open.last().is_none_or(|o| o.path != parent) {
                return Err(Error::DataInconsistency);
            }
            let size = node_size(&r.path, data_len(&r));
            tree.counted(&r.path, r.stat.ephemeral_owner, size);
            open.push(Open::new(r));
        }
        while open.len() > 1 {
            close(&mut open, &mut acls);
        }
        let root = open.pop().expect("the root stays open");
        tree.root = Arc::new(root.node(&mut acls));
        Ok(tree)
    }
}

fn data_len(r: &NodeRecord) -> usize {
    r.data.as_ref().map_or(0, Bytes::len)
}

/// Depth-first order of paths: by their names, level by level, which is
/// byte order with '/' below every other character (where one path has
/// a '/' and the other not, the first one's name ended there).
fn depth_first(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match (a.get(same), b.get(same)) {
        (Some(b'/'), Some(_)) => Ordering::Less,
        (Some(_), Some(b'/')) => Ordering::Greater,
        (x, y) => x.cmp(&y),
    }
}

/// A node being rebuilt whose children are still being read.
struct Open {
    path: String,
    record: NodeRecord,
    kids: Vec<(Name, Arc<Node>)>,
}

impl Open {
    fn new(mut record: NodeRecord) -> Open {
        let path = std::mem::take(&mut record.path);
        Open {
            path,
            record,
            kids: Vec::new(),
        }
    }

    fn node(self, acls: &mut LastAcl) -> Node {
        let r = self.record;
        let mut node = Node::new(r.data, acls.share(r.acl), r.stat);
        node.children = self.kids.into_iter().collect();
        node
    }
}

/// Closes the deepest open node into its parent's children.
fn close(open: &mut Vec<Open>, acls: &mut LastAcl) {
    let done = open.pop().expect("an open node");
    let (_, name) = split_parent(&done.path).expect("checked when opened");
    let name = Name::from(name);
    let parent = open.last_mut().expect("the root is closed last");
    parent.kids.push((name, Arc::new(done.node(acls))));
}

/// The ACL list closed last: neighbours mostly share one, and comparing
/// with it is cheaper than looking each list up in the interned set.
#[derive(Default)]
struct LastAcl(Option<Arc<Vec<Acl>>>);

impl LastAcl {
    fn share(&mut self, acl: Vec<Acl>) -> Arc<Vec<Acl>> {
        match &self.0 {
            Some(last) if **last == acl => last.clone(),
            _ => self.0.insert(super::acl::intern_acl(acl)).clone(),
        }
    }
}

impl Serialize for DataTree {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("DataTree", 1)?;
        st.serialize_field("nodes", &NodesRef(self))?;
        st.end()
    }
}

/// Streams the records so a snapshot never holds a second copy of the tree.
struct NodesRef<'a>(&'a DataTree);

impl Serialize for NodesRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.count))?;
        self.0.each_node(|path, n| {
            seq.serialize_element(&NodeRecordRef {
                path,
                data: n.data.as_deref(),
                acl: &n.acl,
                stat: &n.stat,
            })
        })?;
        seq.end()
    }
}

/// A [`NodeRecord`] by reference, encoded the same way. Writing a snapshot
/// borrows each node's data instead of cloning its `Bytes`: the first clone
/// of a `Bytes` made from a `Vec` gives it a shared header for good, 32
/// more bytes for every znode after a member's first snapshot.
#[derive(Serialize)]
#[serde(rename = "NodeRecord")]
struct NodeRecordRef<'a> {
    path: &'a str,
    #[serde(serialize_with = "opt_slice_field")]
    data: Option<&'a [u8]>,
    acl: &'a [Acl],
    stat: &'a StatPersisted,
}

/// `Option<&[u8]>` as `opt_bytes_field` writes `Option<Bytes>`.
fn opt_slice_field<S: Serializer>(b: &Option<&[u8]>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_some(serde_bytes::Bytes::new(b)),
        None => s.serialize_none(),
    }
}

#[derive(Deserialize)]
#[serde(rename = "DataTree")]
struct TreeRecords {
    nodes: Vec<NodeRecord>,
}

/// A node record as snapshots before null data stored it (never null).
#[derive(Deserialize)]
struct NodeRecordNonNull {
    path: String,
    #[serde(with = "bytes_field")]
    data: Bytes,
    acl: Vec<Acl>,
    stat: StatPersisted,
}

/// A tree as snapshots before null data stored it; read only.
#[derive(Deserialize)]
#[serde(rename = "DataTree")]
pub struct TreeNonNull {
    nodes: Vec<NodeRecordNonNull>,
}

impl TryFrom<TreeNonNull> for DataTree {
    type Error = Error;

    fn try_from(t: TreeNonNull) -> Result<DataTree> {
        DataTree::from_records(t.nodes.into_iter().map(|r| NodeRecord {
            path: r.path,
            data: Some(r.data),
            acl: r.acl,
            stat: r.stat,
        }))
    }
}

impl<'de> Deserialize<'de> for DataTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let t = TreeRecords::deserialize(d)?;
        DataTree::from_records(t.nodes).map_err(de::Error::custom)
    }
}

/// `Option<Bytes>` as an optional serde byte string.
mod opt_bytes_field {
    use super::*;

    pub fn serialize<S: Serializer>(
        b: &Option<Bytes>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_some(serde_bytes::Bytes::new(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<Bytes>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Bytes>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an optional byte string")
        }

        fn visit_none<E: de::Error>(self) -> std::result::Result<Option<Bytes>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Option<Bytes>, D::Error> {
            super::bytes_field::deserialize(d).map(Some)
        }
    }
}

/// `Bytes` as a serde byte string (the `bytes` crate's serde feature is not
/// enabled in this workspace).
mod bytes_field {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Bytes, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Bytes;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Bytes, E> {
            Ok(Bytes::copy_from_slice(v))
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<Bytes, E> {
            Ok(Bytes::from(v))
        }

        // Self-describing formats may hand bytes over as a list of numbers.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Bytes, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(b) = seq.next_element::<u8>()? {
                v.push(b);
            }
            Ok(Bytes::from(v))
        }
    }
}
