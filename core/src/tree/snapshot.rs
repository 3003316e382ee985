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
    #[serde(with = "bytes_field")]
    pub data: Bytes,
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
        s.collect_seq(self.0.records())
    }
}

#[derive(Deserialize)]
#[serde(rename = "DataTree")]
struct TreeRecords {
    nodes: Vec<NodeRecord>,
}

impl<'de> Deserialize<'de> for DataTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let t = TreeRecords::deserialize(d)?;
        DataTree::from_records(t.nodes).map_err(de::Error::custom)
    }
}

/// `Bytes` as a serde byte string (the `bytes` crate's serde feature is not
/// enabled in this workspace).
mod bytes_field {
    use super::*;

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }

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
