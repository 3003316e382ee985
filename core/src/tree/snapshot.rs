//! The tree as snapshot data: a sequence of node records in path order.
//! Children, indexes and sizes are derived, so they are rebuilt on load
//! rather than stored; that keeps snapshots small and unable to disagree
//! with themselves.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::node::{Node, StatPersisted};
use super::split_parent;
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
    pub fn records(&self) -> impl Iterator<Item = NodeRecord> + '_ {
        self.nodes.iter().map(|(path, n)| NodeRecord {
            path: path.to_string(),
            data: n.data.clone(),
            acl: n.acl.to_vec(),
            stat: n.stat,
        })
    }

    /// Rebuilds a tree from records in any order (a zkrs snapshot or an
    /// imported ZooKeeper one). DataInconsistency without a root, with a
    /// duplicate path or with a node whose parent is missing.
    ///
    /// Built in bulk: children are found by hashing parent paths, and
    /// nodes enter the ordered map in key order, each once, instead of
    /// three ordered-map walks per node.
    pub fn from_records(records: impl IntoIterator<Item = NodeRecord>) -> Result<DataTree> {
        let mut records: Vec<NodeRecord> = records.into_iter().collect();
        // A parent's path is a prefix of its child's, so it sorts first.
        records.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        if records.windows(2).any(|w| w[0].path == w[1].path) {
            return Err(Error::DataInconsistency);
        }
        let keys: Vec<Arc<str>> = records.iter().map(|r| Arc::from(r.path.as_str())).collect();
        let children = children_of(&keys)?;
        let mut tree = DataTree::empty();
        for ((r, key), kids) in records.into_iter().zip(keys).zip(children) {
            let mut node = Node::new(r.data, super::acl::intern_acl(r.acl), r.stat);
            node.children = kids.into_iter().collect();
            tree.add_built(key, node);
        }
        if !tree.nodes.contains_key("/") {
            return Err(Error::DataInconsistency);
        }
        Ok(tree)
    }
}

/// For sorted, distinct paths: each one's children (their paths), in order.
fn children_of(paths: &[Arc<str>]) -> Result<Vec<Vec<Arc<str>>>> {
    let index: HashMap<&str, usize> = paths.iter().enumerate().map(|(i, p)| (&**p, i)).collect();
    let mut children = vec![Vec::new(); paths.len()];
    for p in paths.iter().filter(|p| &***p != "/") {
        let (parent, _) = split_parent(p).map_err(|_| Error::DataInconsistency)?;
        let at = *index.get(parent).ok_or(Error::DataInconsistency)?;
        children[at].push(p.clone());
    }
    Ok(children)
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
        s.collect_seq(self.0.nodes.iter().map(|(path, n)| NodeRecordRef {
            path,
            data: n.data.as_deref(),
            acl: &n.acl,
            stat: &n.stat,
        }))
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
