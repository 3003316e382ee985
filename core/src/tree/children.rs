//! A node's children by name: a persistent B+tree of sorted blocks.
//!
//! Persistent as `imbl`'s ordered map is (a clone is one pointer, a write
//! to a shared map copies only the blocks on its way down), but it can be
//! built from children that come in order in one pass, without an insert
//! and a search per child. Loading a snapshot spent a quarter of its time
//! inserting children one by one into `imbl` maps.
//!
//! Blocks hold up to [`CAP`] entries (a leaf) or [`CAP`] blocks (a branch);
//! every leaf is at the same depth. A branch keys each of its blocks by a
//! lower bound of the names in it: a name belongs to the last block whose
//! bound is not above it. Bounds stay lower bounds when names are removed,
//! so a removal never changes a branch's keys.

use std::cmp::Ordering;
use std::sync::Arc;

use super::node::{Key, Name, Node};

/// Entries per leaf and blocks per branch: a leaf of 64 small names is
/// 2 KiB, searched in six steps. Tiny under test, so tests reach several
/// levels, splits and merges with few names.
const CAP: usize = if cfg!(test) { 4 } else { 64 };

/// A block left with fewer entries than this by a removal is merged into
/// a neighbour, when the two fit in one block.
const MIN: usize = CAP / 2;

type Entry = (Name, Arc<Node>);

/// A block with the lower bound of the names under it.
type Bound = (Name, Arc<Block>);

#[derive(Debug, Clone)]
enum Block {
    Leaf(Vec<Entry>),
    Branch {
        /// Entries in the whole subtree.
        len: usize,
        blocks: Vec<Bound>,
    },
}

/// A node's children: nothing at all for a leaf (most znodes), so a node
/// fits a 128-byte allocation. Each parent owns its children, so a
/// znode's full path is stored nowhere: it is the names on the way down.
#[derive(Clone, Default)]
pub(crate) struct Children(Option<Arc<Block>>);

impl Children {
    pub fn get(&self, name: &str) -> Option<&Arc<Node>> {
        let (mut block, key) = (self.0.as_deref()?, Key::new(name));
        loop {
            match block {
                Block::Leaf(entries) => {
                    let i = find(entries, key).ok()?;
                    return Some(&entries[i].1);
                }
                Block::Branch { blocks, .. } => block = &blocks[route(blocks, key)].1,
            }
        }
    }

    /// The child as a node of its own: copied first if a clone shares it,
    /// as is every block on the way down.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Node> {
        let (mut block, key) = (self.0.as_mut()?, Key::new(name));
        loop {
            match Arc::make_mut(block) {
                Block::Leaf(entries) => {
                    let i = find(entries, key).ok()?;
                    return Some(Arc::make_mut(&mut entries[i].1));
                }
                Block::Branch { blocks, .. } => {
                    let i = route(blocks, key);
                    block = &mut blocks[i].1;
                }
            }
        }
    }

    /// Adds or replaces the child `name`.
    pub fn insert(&mut self, name: &str, node: Arc<Node>) {
        self.put(name, node, true);
    }

    /// Adds the child `name` unless there is one: false, and nothing
    /// changed, if there is. One search where a lookup and an insert took
    /// two (creates under a parent of many children spent a tenth of
    /// their time searching).
    pub fn insert_new(&mut self, name: &str, node: Arc<Node>) -> bool {
        self.put(name, node, false)
    }

    /// True if `name` was new.
    fn put(&mut self, name: &str, node: Arc<Node>, replace: bool) -> bool {
        let Some(root) = self.0.as_mut() else {
            self.0 = Some(Arc::new(Block::Leaf(vec![(Name::from(name), node)])));
            return true;
        };
        let (added, split) = insert(root, Name::from(name), node, replace);
        if let Some(right) = split {
            // The empty name is a lower bound of every name.
            let left = (Name::default(), root.clone());
            let len = left.1.len() + right.1.len();
            let blocks = vec![left, right];
            *root = Arc::new(Block::Branch { len, blocks });
        }
        added
    }

    /// Removes the child `name`. Callers remove children they found, so a
    /// missing name is not searched for first: it would only copy blocks a
    /// clone shares, equal to the originals.
    pub fn remove(&mut self, name: &str) -> Option<Arc<Node>> {
        let root = self.0.as_mut()?;
        let gone = remove(root, Key::new(name));
        match &**root {
            block if block.len() == 0 => self.0 = None,
            Block::Branch { blocks, .. } if blocks.len() == 1 => {
                let only = blocks[0].1.clone();
                *root = only;
            }
            _ => {}
        }
        gone
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |b| b.len())
    }

    /// Children in name order.
    pub fn iter(&self) -> ChildIter<'_> {
        let mut it = ChildIter {
            branches: Vec::new(),
            leaf: [].iter(),
        };
        if let Some(root) = &self.0 {
            it.enter(root);
        }
        it
    }

    /// The children themselves, moved out where no clone shares them.
    pub fn into_iter(self) -> impl Iterator<Item = (Name, Arc<Node>)> {
        let mut out = Vec::with_capacity(self.len());
        if let Some(root) = self.0 {
            drain(root, &mut out);
        }
        out.into_iter()
    }
}

/// Children in name order are built bottom-up, full blocks at a time;
/// otherwise one insert each, a later equal name replacing an earlier one.
impl FromIterator<(Name, Arc<Node>)> for Children {
    fn from_iter<I: IntoIterator<Item = (Name, Arc<Node>)>>(kids: I) -> Self {
        let kids: Vec<Entry> = kids.into_iter().collect();
        let sorted = kids.windows(2).all(|w| w[0].0 < w[1].0);
        if !sorted {
            let mut children = Children::default();
            for (name, node) in kids {
                children.insert(&name, node);
            }
            return children;
        }
        Children(build(kids))
    }
}

impl PartialEq for Children {
    fn eq(&self, other: &Children) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Children {}

impl std::fmt::Debug for Children {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// [`Children::iter`]: a nameable type, so a tree walk can keep a stack of
/// them.
pub(crate) struct ChildIter<'a> {
    /// The rest of each branch on the way down to `leaf`.
    branches: Vec<std::slice::Iter<'a, Bound>>,
    leaf: std::slice::Iter<'a, Entry>,
}

/// How far ahead of a walk [`ChildIter::prefetch_ahead`] asks for nodes,
/// and for their data: a node's memory must have arrived before its data
/// pointer can be read without a wait. Measured with the `encode_1m_scattered`
/// bench: 2 to 12 ahead all do about as well (6 a little better); 24 does worse.
const NODES_AHEAD: usize = 6;
const DATA_AHEAD: usize = 3;

impl<'a> ChildIter<'a> {
    /// Asks the CPU to start loading the nodes a few children ahead in
    /// this leaf, and the data of nearer ones. A walk of every node (a
    /// snapshot) that touches each node's stat and data otherwise waits on
    /// memory twice per node: three quarters of a snapshot's time in a
    /// tree grown by a create load, whose nodes lie scattered.
    pub fn prefetch_ahead(&self) {
        let rest = self.leaf.as_slice();
        if let Some((_, far)) = rest.get(NODES_AHEAD) {
            let at = Arc::as_ptr(far).cast::<u8>();
            prefetch(at);
            prefetch(at.wrapping_add(64));
        }
        if let Some((_, near)) = rest.get(DATA_AHEAD) {
            if let Some(data) = &near.data {
                prefetch(data.as_ptr());
            }
        }
    }

    /// Goes down `block`'s first blocks to its first leaf.
    fn enter(&mut self, mut block: &'a Block) {
        loop {
            match block {
                Block::Leaf(entries) => {
                    self.leaf = entries.iter();
                    return;
                }
                Block::Branch { blocks, .. } => {
                    let mut rest = blocks.iter();
                    let Some((_, first)) = rest.next() else {
                        return;
                    };
                    self.branches.push(rest);
                    block = first;
                }
            }
        }
    }
}

/// A hint that `at` is about to be read; never faults, whatever `at` is.
#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and
    // does not fault on any address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

impl<'a> Iterator for ChildIter<'a> {
    type Item = (&'a Name, &'a Arc<Node>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((name, node)) = self.leaf.next() {
                return Some((name, node));
            }
            let rest = self.branches.last_mut()?;
            match rest.next() {
                Some((_, block)) => self.enter(block),
                None => {
                    self.branches.pop();
                }
            }
        }
    }
}

impl Block {
    /// Entries under this block.
    fn len(&self) -> usize {
        match self {
            Block::Leaf(entries) => entries.len(),
            Block::Branch { len, .. } => *len,
        }
    }

    /// Entries or blocks in this block itself, which [`CAP`] bounds.
    fn size(&self) -> usize {
        match self {
            Block::Leaf(entries) => entries.len(),
            Block::Branch { blocks, .. } => blocks.len(),
        }
    }

    /// Moves `other`, the block right of this one at the same depth, to
    /// this block's end; `bound` is `other`'s lower bound in their parent.
    /// The first block of a branch may hold names below its own bound (a
    /// branch routes every name below its second bound to its first
    /// block), so once it is no longer first it takes `bound`, which is
    /// below every name in `other`.
    fn append(&mut self, bound: Name, other: Arc<Block>) {
        match (self, Arc::unwrap_or_clone(other)) {
            (Block::Leaf(entries), Block::Leaf(more)) => {
                entries.reserve_exact(more.len());
                entries.extend(more);
            }
            (
                Block::Branch { len, blocks },
                Block::Branch {
                    len: n,
                    blocks: mut more,
                },
            ) => {
                *len += n;
                more[0].0 = bound;
                blocks.reserve_exact(more.len());
                blocks.extend(more);
            }
            _ => unreachable!("every leaf is at the same depth"),
        }
    }
}

fn find(entries: &[Entry], key: Key) -> Result<usize, usize> {
    entries.binary_search_by(|(n, _)| key.order_of(n))
}

/// The block of a branch where `key` is or would go.
fn route(blocks: &[Bound], key: Key) -> usize {
    let above = blocks.partition_point(|(low, _)| key.order_of(low) != Ordering::Greater);
    above.saturating_sub(1)
}

/// Inserts `item` at `i` into a block's `items`. A full block is split
/// first, so no block's vector grows past [`CAP`] (a power of two); the
/// part right of the cut is returned. An item added at the end starts a
/// block of its own, so names added in order (sequential znodes) leave
/// full blocks behind.
fn insert_or_split<T>(items: &mut Vec<T>, i: usize, item: T) -> Option<Vec<T>> {
    if items.len() < CAP {
        items.insert(i, item);
        return None;
    }
    if i == CAP {
        let mut right = Vec::with_capacity(CAP);
        right.push(item);
        return Some(right);
    }
    let at = if i == 0 { 0 } else { CAP / 2 };
    let mut right = items.split_off(at);
    if i <= at {
        items.insert(i, item);
    } else {
        right.insert(i - at, item);
    }
    Some(right)
}

/// Inserts into `block`: whether `name` was new (if not, its node is
/// replaced only if `replace`), and the block split off to the right of
/// this one, with its lower bound, if it was full.
fn insert(
    block: &mut Arc<Block>,
    name: Name,
    node: Arc<Node>,
    replace: bool,
) -> (bool, Option<Bound>) {
    match Arc::make_mut(block) {
        Block::Leaf(entries) => match find(entries, name.key()) {
            Ok(i) => {
                if replace {
                    entries[i].1 = node;
                }
                (false, None)
            }
            Err(i) => {
                let Some(right) = insert_or_split(entries, i, (name, node)) else {
                    return (true, None);
                };
                let low = right[0].0.clone();
                (true, Some((low, Arc::new(Block::Leaf(right)))))
            }
        },
        Block::Branch { len, blocks } => {
            let i = route(blocks, name.key());
            let (added, split) = insert(&mut blocks[i].1, name, node, replace);
            if added {
                *len += 1;
            }
            let Some(split) = split else {
                return (added, None);
            };
            let Some(right) = insert_or_split(blocks, i + 1, split) else {
                return (added, None);
            };
            let right_len = right.iter().map(|(_, b)| b.len()).sum();
            *len -= right_len;
            let low = right[0].0.clone();
            let right = Block::Branch {
                len: right_len,
                blocks: right,
            };
            (added, Some((low, Arc::new(right))))
        }
    }
}

/// Removes `key`, which is in `block`; a block left empty is dropped, and
/// one left small is merged with a neighbour when the two fit in one.
fn remove(block: &mut Arc<Block>, key: Key) -> Option<Arc<Node>> {
    match Arc::make_mut(block) {
        Block::Leaf(entries) => {
            let i = find(entries, key).ok()?;
            Some(entries.remove(i).1)
        }
        Block::Branch { len, blocks } => {
            let i = route(blocks, key);
            let gone = remove(&mut blocks[i].1, key)?;
            *len -= 1;
            rebalance(blocks, i);
            Some(gone)
        }
    }
}

/// After a removal under `blocks[i]`.
fn rebalance(blocks: &mut Vec<Bound>, i: usize) {
    let n = blocks[i].1.size();
    if n == 0 {
        blocks.remove(i);
        return;
    }
    if n >= MIN || blocks.len() < 2 {
        return;
    }
    let left = if i > 0 { i - 1 } else { i };
    if blocks[left].1.size() + blocks[left + 1].1.size() > CAP {
        return;
    }
    let (bound, right) = blocks.remove(left + 1);
    Arc::make_mut(&mut blocks[left].1).append(bound, right);
}

/// A tree of full blocks over `entries`, which are in name order.
fn build(entries: Vec<Entry>) -> Option<Arc<Block>> {
    let mut level: Vec<Bound> = Vec::with_capacity(entries.len().div_ceil(CAP));
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let leaf: Vec<Entry> = entries.by_ref().take(CAP).collect();
        let low = leaf[0].0.clone();
        level.push((low, Arc::new(Block::Leaf(leaf))));
    }
    while level.len() > 1 {
        let mut above = Vec::with_capacity(level.len().div_ceil(CAP));
        let mut blocks = level.into_iter().peekable();
        while blocks.peek().is_some() {
            let group: Vec<Bound> = blocks.by_ref().take(CAP).collect();
            let low = group[0].0.clone();
            let len = group.iter().map(|(_, b)| b.len()).sum();
            above.push((low, Arc::new(Block::Branch { len, blocks: group })));
        }
        level = above;
    }
    level.pop().map(|(_, root)| root)
}

/// Moves every entry under `block` to `out`, in order.
fn drain(block: Arc<Block>, out: &mut Vec<Entry>) {
    match Arc::unwrap_or_clone(block) {
        Block::Leaf(entries) => out.extend(entries),
        Block::Branch { blocks, .. } => {
            for (_, block) in blocks {
                drain(block, out);
            }
        }
    }
}

#[cfg(test)]
impl Children {
    /// Panics where the tree breaks a rule the searches rely on.
    pub fn check(&self) {
        if let Some(root) = &self.0 {
            assert!(root.len() > 0, "an empty tree is None");
            check_block(root, None, None);
        }
    }
}

/// Checks `block`, whose names must be at least `low` and below `high`;
/// returns its depth.
#[cfg(test)]
fn check_block(block: &Block, low: Option<&Name>, high: Option<&Name>) -> usize {
    let in_range = |n: &Name| low.is_none_or(|l| l <= n) && high.is_none_or(|h| n < h);
    match block {
        Block::Leaf(entries) => {
            assert!(
                !entries.is_empty() && entries.len() <= CAP,
                "leaf of {}",
                entries.len()
            );
            assert!(
                entries.windows(2).all(|w| w[0].0 < w[1].0),
                "leaf out of order"
            );
            assert!(
                entries.iter().all(|(n, _)| in_range(n)),
                "leaf name outside its bounds"
            );
            0
        }
        Block::Branch { len, blocks } => {
            assert!(
                !blocks.is_empty() && blocks.len() <= CAP,
                "branch of {}",
                blocks.len()
            );
            let sum: usize = blocks.iter().map(|(_, b)| b.len()).sum();
            assert_eq!(*len, sum, "branch length");
            let mut depths = blocks.iter().enumerate().map(|(i, (bound, b))| {
                let lo = if i == 0 { low } else { Some(bound) };
                let hi = blocks.get(i + 1).map(|(n, _)| n).or(high);
                check_block(b, lo, hi)
            });
            let first = depths.next().expect("not empty");
            assert!(depths.all(|d| d == first), "leaves at different depths");
            first + 1
        }
    }
}
