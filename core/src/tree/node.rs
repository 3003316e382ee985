//! One znode as stored: data, ACL, persisted stat and child names, and the
//! translation from what ZooKeeper persists to the `Stat` clients see.

use std::cmp::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

pub(crate) use super::children::Children;
use crate::{owner_ttl, Acl, Stat, Zxid, CONTAINER_OWNER};

/// The stat ZooKeeper persists (`StatPersisted`). Unlike the client `Stat`,
/// `cversion` counts child creations only, `ephemeral_owner` keeps the
/// container and TTL markers, and dataLength/numChildren are derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatPersisted {
    pub czxid: Zxid,
    pub mzxid: Zxid,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub pzxid: Zxid,
}

impl StatPersisted {
    /// The stat of a node created at `zxid`, `time` (`DataTree.createStat`).
    pub fn new(zxid: Zxid, time: i64, ephemeral_owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            pzxid: zxid,
            ephemeral_owner,
            ..StatPersisted::default()
        }
    }
}

/// What an ephemeralOwner value means (`EphemeralType`, with extended
/// types enabled so TTL nodes exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemeralType {
    /// A plain persistent node (owner 0).
    Void,
    /// An ephemeral node; the owner is its session.
    Normal,
    Container,
    /// A TTL node with its TTL in milliseconds.
    Ttl(i64),
}

impl EphemeralType {
    pub fn of(owner: i64) -> EphemeralType {
        if owner == CONTAINER_OWNER {
            EphemeralType::Container
        } else if let Some(ttl) = owner_ttl(owner) {
            EphemeralType::Ttl(ttl)
        } else if owner == 0 {
            EphemeralType::Void
        } else {
            EphemeralType::Normal
        }
    }
}

/// A child's name: up to 24 bytes inline (most names), so a name costs
/// no allocation of its own and copying a map block copies no strings.
/// Ordered as `str` is (byte order), but by its first 8 bytes as one
/// big-endian word, kept beside the text: a search compares words and
/// reads no string for most pairs. Working the word out at each
/// comparison was a quarter of replaying creates after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Name {
    word: u64,
    text: CompactString,
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name {
            word: first_word(name.as_bytes()),
            text: CompactString::from(name),
        }
    }
}

impl Name {
    /// This name as a search key, its word already worked out.
    pub(super) fn key(&self) -> Key<'_> {
        Key {
            word: self.word,
            bytes: self.text.as_bytes(),
        }
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        self.text.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.text.as_str()
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        other.key().order_of(self)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of two names whose first words (their first 8 bytes, padded
/// with zero bytes, which sort below any byte) are equal: where either is
/// no longer than 8 bytes, it is a prefix of the other and the shorter
/// comes first; otherwise the rest decides.
fn same_word(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() <= 8 || b.len() <= 8 {
        return a.len().cmp(&b.len());
    }
    a[8..].cmp(&b[8..])
}

/// A name being searched for, its first word worked out once for the
/// whole search.
#[derive(Clone, Copy)]
pub(super) struct Key<'a> {
    word: u64,
    bytes: &'a [u8],
}

impl<'a> Key<'a> {
    pub fn new(name: &'a str) -> Key<'a> {
        let bytes = name.as_bytes();
        Key {
            word: first_word(bytes),
            bytes,
        }
    }

    /// How `name` orders against this key (`name.cmp(key)`).
    #[inline]
    pub fn order_of(&self, name: &Name) -> Ordering {
        if name.word != self.word {
            return name.word.cmp(&self.word);
        }
        same_word(name.text.as_bytes(), self.bytes)
    }
}

#[inline]
fn first_word(s: &[u8]) -> u64 {
    match s.first_chunk::<8>() {
        Some(word) => u64::from_be_bytes(*word),
        None => {
            let mut word = [0u8; 8];
            for (w, c) in word.iter_mut().zip(s) {
                *w = *c;
            }
            u64::from_be_bytes(word)
        }
    }
}

/// A znode. Every field is cheap to clone (refcounted or persistent), which
/// matters because the persistent map clones whole blocks of nodes on write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// `None` is null data, which ZooKeeper keeps apart from empty data.
    pub data: Option<Bytes>,
    /// Interned: one pointer, shared by every node with an equal list.
    pub acl: Arc<Vec<Acl>>,
    pub stat: StatPersisted,
    pub children: Children,
}

impl Node {
    pub fn new(data: Option<Bytes>, acl: Arc<Vec<Acl>>, stat: StatPersisted) -> Node {
        Node {
            data,
            acl,
            stat,
            children: Children::default(),
        }
    }

    /// The data's length; null data has none.
    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, Bytes::len)
    }

    /// Raises pzxid to `zxid`, never lowering it.
    pub fn pzxid_at_least(&mut self, zxid: Zxid) {
        self.stat.pzxid = self.stat.pzxid.max(zxid);
    }

    /// The Stat clients see (`DataNode.copyStat`).
    pub fn client_stat(&self) -> Stat {
        let s = &self.stat;
        let num_children = self.children.len() as i32;
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            // Persisted cversion counts creations; clients see creations
            // plus deletions, and every child not still present was deleted.
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            // Container and TTL markers are not sessions; clients see 0.
            ephemeral_owner: match EphemeralType::of(s.ephemeral_owner) {
                EphemeralType::Normal => s.ephemeral_owner,
                _ => 0,
            },
            data_length: self.data_len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }
}
