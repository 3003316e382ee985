//! The tree as snapshot data: a sequence of node records, depth first.
//! Children, indexes and sizes are derived, so they are rebuilt on load
//! rather than stored; that keeps snapshots small and unable to disagree
//! with themselves.

use std::borrow::Cow;
use std::fmt;
use std::sync::mpsc;

use bytes::Bytes;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::build::{depth_first, Builder, LastAcl, OutOfOrder};
use super::node::{Node, StatPersisted};
use super::DataTree;
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
            kids.prefetch_ahead();
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
    pub fn from_records(records: impl IntoIterator<Item = NodeRecord>) -> Result<DataTree> {
        let mut records: Vec<NodeRecord> = records.into_iter().collect();
        // A zkrs snapshot is in order already: one pass checks it.
        if !records.is_sorted_by(|a, b| depth_first(&a.path, &b.path).is_lt()) {
            records.sort_unstable_by(|a, b| depth_first(&a.path, &b.path));
            if records.windows(2).any(|w| w[0].path == w[1].path) {
                return Err(Error::DataInconsistency);
            }
        }
        let mut acls = LastAcl::default();
        let mut node = |r: NodeRecord| (r.path, owned_node(r.data, &r.acl, r.stat, &mut acls));
        let mut records = records.into_iter().map(&mut node);
        let root = records.next().filter(|(path, _)| path == "/");
        let (_, root) = root.ok_or(Error::DataInconsistency)?;
        let mut tree = Builder::new(root);
        for (path, node) in records {
            tree.push(Cow::Owned(path), node)
                .map_err(|_| Error::DataInconsistency)?;
        }
        Ok(tree.finish())
    }
}

fn owned_node(data: Option<Bytes>, acl: &[Acl], stat: StatPersisted, acls: &mut LastAcl) -> Node {
    let acl = acls.share(acl, |a| (a.perms, &a.id.scheme, &a.id.id));
    Node::new(data, acl, stat)
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

/// A tree as snapshots store it, read by [`NodesIn`].
#[derive(Deserialize)]
#[serde(rename = "DataTree")]
struct TreeIn {
    nodes: NodesIn,
}

/// The records of a snapshot, built into a tree as they are read: no
/// record is kept, and names and data are borrowed from the encoded
/// snapshot until their node is made.
struct NodesIn(DataTree);

/// A [`NodeRecord`] borrowing what it can from the encoded snapshot.
#[derive(Deserialize)]
#[serde(rename = "NodeRecord")]
struct RecordIn<'a> {
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(borrow, with = "serde_bytes")]
    data: Option<Cow<'a, [u8]>>,
    #[serde(borrow)]
    acl: Vec<AclIn<'a>>,
    stat: StatPersisted,
}

#[derive(Deserialize)]
#[serde(rename = "Acl")]
struct AclIn<'a> {
    perms: i32,
    #[serde(borrow)]
    id: IdIn<'a>,
}

#[derive(Deserialize)]
#[serde(rename = "Id")]
struct IdIn<'a> {
    #[serde(borrow)]
    scheme: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
}

impl<'a> RecordIn<'a> {
    fn into_node(self, acls: &mut LastAcl) -> (Cow<'a, str>, Node) {
        let data = self.data.map(|d| match d {
            Cow::Borrowed(b) => Bytes::copy_from_slice(b),
            Cow::Owned(v) => Bytes::from(v),
        });
        let acl = acls.share(&self.acl, |a| (a.perms, &a.id.scheme, &a.id.id));
        (self.path, Node::new(data, acl, self.stat))
    }
}

impl<'de> Deserialize<'de> for NodesIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_seq(NodesVisitor).map(NodesIn)
    }
}

struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = DataTree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of node records")
    }

    /// Two stages on two threads: this one decodes the records and makes
    /// their nodes, a second links the nodes into the tree.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<DataTree, A::Error> {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::sync_channel::<Batch<'de>>(4);
            let linker = s.spawn(move || {
                let mut tree = Assembly::default();
                rx.into_iter()
                    .flatten()
                    .for_each(|(path, node)| tree.add(path, node));
                tree.finish()
            });
            let read = read_nodes(&mut seq, &tx);
            drop(tx);
            let built = linker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            read?;
            built.map_err(de::Error::custom)
        })
    }
}

/// Nodes on their way from the decoding thread to the linking one.
type Batch<'p> = Vec<(Cow<'p, str>, Node)>;

const BATCH: usize = 1024;

/// Decodes every record of `seq` into a node and sends them in batches.
fn read_nodes<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    tx: &mpsc::SyncSender<Batch<'de>>,
) -> std::result::Result<(), A::Error> {
    let mut acls = LastAcl::default();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(r) = seq.next_element::<RecordIn<'de>>()? {
        batch.push(r.into_node(&mut acls));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(full).is_err() {
                break; // the linker is gone; joining it tells why
            }
        }
    }
    let _ = tx.send(batch);
    Ok(())
}

/// A tree assembled from records in the order they come: built as they
/// come while they come depth first; records out of that order (a
/// snapshot of an older zkrs, in byte order of paths) send all of them
/// through [`DataTree::from_records`], which sorts them.
#[derive(Default)]
struct Assembly<'p> {
    tree: Option<Builder<'p>>,
    unordered: Option<Vec<NodeRecord>>,
}

impl<'p> Assembly<'p> {
    fn add(&mut self, path: Cow<'p, str>, node: Node) {
        if let Some(rest) = &mut self.unordered {
            rest.push(record(path, node));
            return;
        }
        let Some(building) = &mut self.tree else {
            match path == "/" {
                true => self.tree = Some(Builder::new(node)),
                false => self.unordered = Some(vec![record(path, node)]),
            }
            return;
        };
        if let Err(OutOfOrder(path, node)) = building.push(path, node) {
            let mut rest = self
                .tree
                .take()
                .map(Builder::into_records)
                .unwrap_or_default();
            rest.push(record(path, *node));
            self.unordered = Some(rest);
        }
    }

    fn finish(self) -> Result<DataTree> {
        match (self.unordered, self.tree) {
            (Some(all), _) => DataTree::from_records(all),
            (None, Some(tree)) => Ok(tree.finish()),
            (None, None) => Err(Error::DataInconsistency),
        }
    }
}

fn record(path: Cow<str>, node: Node) -> NodeRecord {
    NodeRecord {
        path: path.into_owned(),
        data: node.data,
        acl: node.acl.to_vec(),
        stat: node.stat,
    }
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
        Ok(TreeIn::deserialize(d)?.nodes.0)
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
