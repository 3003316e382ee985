//! The client's watch tables (ZooKeeper's `ZKWatchManager`): which
//! watchers wait on which path, in five tables (data, exist, child,
//! persistent, persistent-recursive). Pure data: the connection task
//! registers and materializes under a lock; callbacks run elsewhere.
//!
//! Paths are the caller's (chroot already stripped). A watcher registered
//! twice on the same path and table is kept once, and an event calls each
//! distinct watcher once, as ZooKeeper's `Set<Watcher>` does.

use std::collections::HashMap;
use std::sync::Arc;

use crate::types::{EventType, WatchedEvent};
use crate::watch::WatcherType;
use crate::Error;

/// A watch callback. Called on the client's event thread, in wire order.
pub type Watcher = Arc<dyn Fn(WatchedEvent) + Send + Sync>;

/// The five tables of ZooKeeper's client watch manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Data,
    Exist,
    Child,
    Persistent,
    Recursive,
}

const TABLES: [Table; 5] = [
    Table::Data,
    Table::Exist,
    Table::Child,
    Table::Persistent,
    Table::Recursive,
];

fn same(a: &Watcher, b: &Watcher) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

fn push_unique(out: &mut Vec<Watcher>, w: &Watcher) {
    if !out.iter().any(|x| same(x, w)) {
        out.push(w.clone());
    }
}

#[derive(Default)]
pub(crate) struct WatchTables {
    tables: [HashMap<String, Vec<Watcher>>; 5],
}

/// The path lists a SetWatches2 carries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WatchPaths {
    pub data: Vec<String>,
    pub exist: Vec<String>,
    pub child: Vec<String>,
    pub persistent: Vec<String>,
    pub recursive: Vec<String>,
}

impl WatchTables {
    fn table(&mut self, t: Table) -> &mut HashMap<String, Vec<Watcher>> {
        &mut self.tables[t as usize]
    }

    pub fn add(&mut self, t: Table, path: &str, w: Watcher) {
        let ws = self.table(t).entry(path.to_string()).or_default();
        push_unique(ws, &w);
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(HashMap::is_empty)
    }

    pub fn clear(&mut self) {
        for t in &mut self.tables {
            t.clear();
        }
    }

    /// The watchers an event reaches; one-shot ones are removed
    /// (`ZKWatchManager.materialize`). Recursive watchers on the path and
    /// its ancestors see every event but NodeChildrenChanged.
    pub fn materialize(&mut self, ev: &WatchedEvent) -> Vec<Watcher> {
        let mut out = Vec::new();
        let path = ev.path.as_str();
        let mut take = |tables: &mut Self, t: Table| {
            for w in tables.table(t).remove(path).unwrap_or_default() {
                push_unique(&mut out, &w);
            }
        };
        match ev.event_type {
            EventType::NodeDataChanged | EventType::NodeCreated => {
                take(self, Table::Data);
                take(self, Table::Exist);
            }
            EventType::NodeChildrenChanged => take(self, Table::Child),
            EventType::NodeDeleted => {
                take(self, Table::Data);
                take(self, Table::Exist);
                take(self, Table::Child);
            }
            _ => return out,
        }
        for w in self.tables[Table::Persistent as usize]
            .get(path)
            .into_iter()
            .flatten()
        {
            push_unique(&mut out, w);
        }
        if ev.event_type != EventType::NodeChildrenChanged {
            let rec = &self.tables[Table::Recursive as usize];
            for p in self_and_ancestors(path) {
                for w in rec.get(p).into_iter().flatten() {
                    push_unique(&mut out, w);
                }
            }
        }
        out
    }

    pub fn paths(&self) -> WatchPaths {
        let keys = |t: Table| {
            let mut v: Vec<String> = self.tables[t as usize].keys().cloned().collect();
            v.sort();
            v
        };
        WatchPaths {
            data: keys(Table::Data),
            exist: keys(Table::Exist),
            child: keys(Table::Child),
            persistent: keys(Table::Persistent),
            recursive: keys(Table::Recursive),
        }
    }

    fn tables_for(wt: WatcherType) -> &'static [Table] {
        match wt {
            WatcherType::Children => &[Table::Child],
            WatcherType::Data => &[Table::Data, Table::Exist],
            WatcherType::Any => &TABLES,
            WatcherType::Persistent => &[Table::Persistent],
            WatcherType::PersistentRecursive => &[Table::Recursive],
        }
    }

    /// Whether a `remove_watches(path, wt)` would remove anything.
    pub fn contains(&self, path: &str, wt: WatcherType) -> bool {
        Self::tables_for(wt)
            .iter()
            .any(|t| self.tables[*t as usize].contains_key(path))
    }

    /// Removes every watcher of kind `wt` on `path`, returning each with
    /// the "removed" event it is owed; `NoWatcher` if there was none.
    pub fn remove(
        &mut self,
        path: &str,
        wt: WatcherType,
    ) -> Result<Vec<(Watcher, EventType)>, Error> {
        let mut out: Vec<(Watcher, EventType)> = Vec::new();
        for t in Self::tables_for(wt) {
            let kind = match t {
                Table::Child => EventType::ChildWatchRemoved,
                Table::Data | Table::Exist => EventType::DataWatchRemoved,
                Table::Persistent | Table::Recursive => EventType::PersistentWatchRemoved,
            };
            for w in self.table(*t).remove(path).unwrap_or_default() {
                if !out.iter().any(|(x, k)| same(x, &w) && *k == kind) {
                    out.push((w, kind));
                }
            }
        }
        if out.is_empty() {
            Err(Error::NoWatcher)
        } else {
            Ok(out)
        }
    }
}

/// "/a/b" → "/a/b", "/a", "/".
fn self_and_ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.rfind('/') {
            _ if cur == "/" => None,
            Some(0) => Some("/"),
            Some(i) => Some(&cur[..i]),
            None => None,
        };
        Some(cur)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::KeeperState;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ev(t: EventType, p: &str) -> WatchedEvent {
        WatchedEvent {
            event_type: t,
            state: KeeperState::SyncConnected,
            path: p.into(),
        }
    }

    fn counter() -> (Watcher, Arc<AtomicUsize>) {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        (
            Arc::new(move |_| {
                m.fetch_add(1, Ordering::SeqCst);
            }),
            n,
        )
    }

    #[test]
    fn ancestors() {
        let v: Vec<_> = self_and_ancestors("/a/b/c").collect();
        assert_eq!(v, ["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(self_and_ancestors("/").collect::<Vec<_>>(), ["/"]);
    }

    #[test]
    fn one_shot_and_persistent() {
        let mut t = WatchTables::default();
        let (w, _) = counter();
        t.add(Table::Data, "/a", w.clone());
        t.add(Table::Data, "/a", w.clone());
        t.add(Table::Exist, "/a", w.clone());
        t.add(Table::Child, "/a", w.clone());
        let (p, _) = counter();
        t.add(Table::Persistent, "/a", p.clone());
        let (r, _) = counter();
        t.add(Table::Recursive, "/", r.clone());
        // data event: w once (deduped), p, r; the child watch stays.
        assert_eq!(
            t.materialize(&ev(EventType::NodeDataChanged, "/a")).len(),
            3
        );
        assert_eq!(
            t.materialize(&ev(EventType::NodeDataChanged, "/a")).len(),
            2
        );
        // children: the child one-shot and the persistent, not recursive.
        assert_eq!(
            t.materialize(&ev(EventType::NodeChildrenChanged, "/a"))
                .len(),
            2
        );
        assert_eq!(
            t.materialize(&ev(EventType::NodeCreated, "/a/b/c")).len(),
            1
        );
        let paths = t.paths();
        assert_eq!(paths.persistent, ["/a"]);
        assert_eq!(paths.recursive, ["/"]);
        assert!(paths.data.is_empty() && paths.child.is_empty());
    }

    #[test]
    fn remove_by_type() {
        let mut t = WatchTables::default();
        let (w, _) = counter();
        t.add(Table::Data, "/a", w.clone());
        t.add(Table::Child, "/a", w.clone());
        assert!(t.contains("/a", WatcherType::Children));
        assert!(!t.contains("/a", WatcherType::Persistent));
        let removed = t.remove("/a", WatcherType::Any).unwrap();
        assert_eq!(removed.len(), 2);
        assert_eq!(
            t.remove("/a", WatcherType::Data).err(),
            Some(Error::NoWatcher)
        );
        assert!(t.is_empty());
    }
}
