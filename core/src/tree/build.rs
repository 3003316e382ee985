//! Building a tree from node records that come depth first (as snapshots
//! write them): a node's children are complete once the records leave its
//! subtree, so each node is made once, bottom-up, and no record needs a
//! walk from the root.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use super::node::{Name, Node};
use super::{join_child, node_size, split_parent, DataTree, NodeRecord};
use crate::Acl;

/// A tree being built, and the nodes from the root down to the last one
/// added, whose children may still come.
pub(super) struct Builder<'p> {
    tree: DataTree,
    open: Vec<Open<'p>>,
}

struct Open<'p> {
    path: Cow<'p, str>,
    node: Node,
    kids: Vec<(Name, Arc<Node>)>,
}

/// A record that does not come depth first after the last one added, or
/// whose parent is missing; handed back.
pub(super) struct OutOfOrder<'p>(pub Cow<'p, str>, pub Box<Node>);

impl<'p> Builder<'p> {
    pub fn new(root: Node) -> Builder<'p> {
        let mut tree = DataTree::with_root(Node::new(None, Arc::default(), root.stat));
        tree.data_size = node_size("/", root.data_len());
        let open = vec![Open {
            path: Cow::Borrowed("/"),
            node: root,
            kids: Vec::new(),
        }];
        Builder { tree, open }
    }

    /// Adds the node at `path` under its parent, which must be the last
    /// node added or one of its ancestors.
    pub fn push(&mut self, path: Cow<'p, str>, node: Node) -> Result<(), OutOfOrder<'p>> {
        let last = &self.open.last().expect("the root stays open").path;
        let parent = match split_parent(&path) {
            Ok((parent, _)) if depth_first(last, &path).is_lt() => parent,
            _ => return Err(OutOfOrder(path, Box::new(node))),
        };
        while self.open.len() > 1 && self.top_path() != parent {
            self.close();
        }
        if self.top_path() != parent {
            return Err(OutOfOrder(path, Box::new(node)));
        }
        let size = node_size(&path, node.data_len());
        self.tree.counted(&path, node.stat.ephemeral_owner, size);
        let kids = Vec::new();
        self.open.push(Open { path, node, kids });
        Ok(())
    }

    fn top_path(&self) -> &str {
        &self.open.last().expect("the root stays open").path
    }

    /// Closes the deepest open node into its parent's children.
    fn close(&mut self) {
        let done = self.open.pop().expect("an open node");
        let (_, name) = split_parent(&done.path).expect("checked when added");
        let name = Name::from(name);
        let parent = self.open.last_mut().expect("the root is closed last");
        parent.kids.push((name, Arc::new(done.into_node())));
    }

    pub fn finish(mut self) -> DataTree {
        while self.open.len() > 1 {
            self.close();
        }
        let root = self.open.pop().expect("the root stays open");
        self.tree.root = Arc::new(root.into_node());
        self.tree
    }

    /// What was added so far, as records, to start over in another order.
    /// The nodes are taken apart rather than copied: a record takes its
    /// node's data itself, since a clone would give a `Bytes` made from a
    /// `Vec` a shared header for good.
    pub fn into_records(self) -> Vec<NodeRecord> {
        let tree = self.finish();
        let mut out = Vec::with_capacity(tree.count);
        let mut stack = vec![(String::from("/"), tree.root)];
        while let Some((path, node)) = stack.pop() {
            let Node {
                data,
                acl,
                stat,
                children,
            } = Arc::unwrap_or_clone(node);
            let kids = children.into_iter();
            stack.extend(kids.map(|(name, kid)| (join_child(&path, &name), kid)));
            let acl = acl.to_vec();
            out.push(NodeRecord {
                path,
                data,
                acl,
                stat,
            });
        }
        out
    }
}

impl Open<'_> {
    fn into_node(self) -> Node {
        let mut node = self.node;
        node.children = self.kids.into_iter().collect();
        node
    }
}

/// Depth-first order of paths: by their names, level by level, which is
/// byte order with '/' below every other character (where one path has
/// a '/' and the other not, the first one's name ended there).
pub(super) fn depth_first(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match (a.get(same), b.get(same)) {
        (Some(b'/'), Some(_)) => Ordering::Less,
        (Some(_), Some(b'/')) => Ordering::Greater,
        (x, y) => x.cmp(&y),
    }
}

/// The ACL list of the last node made: neighbours mostly share one, and
/// comparing with it is cheaper than looking each list up in the interned
/// set (or allocating it first).
#[derive(Default)]
pub(super) struct LastAcl(Option<Arc<Vec<Acl>>>);

impl LastAcl {
    /// The shared list equal to `acl`, whose entries are (perms, scheme,
    /// id) as `parts` gives them.
    pub fn share<T>(
        &mut self,
        acl: &[T],
        parts: impl Fn(&T) -> (i32, &str, &str),
    ) -> Arc<Vec<Acl>> {
        let same = |l: &Arc<Vec<Acl>>| {
            l.len() == acl.len()
                && l.iter().zip(acl).all(|(a, b)| {
                    let (perms, scheme, id) = parts(b);
                    a.perms == perms && a.id.scheme == scheme && a.id.id == id
                })
        };
        match &self.0 {
            Some(last) if same(last) => last.clone(),
            _ => {
                let owned: Vec<Acl> = acl
                    .iter()
                    .map(|a| {
                        let (perms, scheme, id) = parts(a);
                        Acl {
                            perms,
                            id: crate::Id::new(scheme, id),
                        }
                    })
                    .collect();
                self.0.insert(super::acl::intern_acl(&owned)).clone()
            }
        }
    }
}
