//! The per-member watch registry: which connection watches which path, and
//! who is told when a path changes. A pure data structure: no I/O, no clock,
//! no knowledge of the tree. The caller (the apply path) says what changed;
//! delivery to sockets is the server's job.
//!
//! It mirrors ZooKeeper's server side exactly, because clients can observe
//! the differences: ZooKeeper keeps two tables (`DataTree.dataWatches` and
//! `DataTree.childWatches`), each mapping (path, watcher) to a set of modes
//! (standard, persistent, persistent-recursive).
//!
//! | registered by                 | data table    | child table  |
//! | ----------------------------- | ------------- | ------------ |
//! | getData, exists (any outcome) | standard      |              |
//! | getChildren                   |               | standard     |
//! | addWatch persistent           | persistent    | persistent   |
//! | addWatch persistentRecursive  | recursive     |              |
//!
//! Which table an event consults, as `DataTree` calls it per operation:
//!
//! | operation | call                                                              |
//! | --------- | ----------------------------------------------------------------- |
//! | create    | `trigger(path, NodeCreated)`, `trigger(parent, NodeChildrenChanged)` |
//! | delete    | `trigger(path, NodeDeleted)`, `trigger(parent, NodeChildrenChanged)` |
//! | setData   | `trigger(path, NodeDataChanged)`                                  |
//!
//! NodeCreated / NodeDataChanged hit the data table; NodeChildrenChanged the
//! child table; NodeDeleted both, each watcher told once. On the triggered
//! path every mode fires; on its ancestors only recursive ones (which live
//! in the data table only, so they never see NodeChildrenChanged). Standard
//! watches are one-shot; persistent ones stay.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::types::{EventType, KeeperState, WatchedEvent};

/// Identifies who is watching: one per client connection.
pub type WatcherId = u64;

/// What a request registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// One-shot data watch: getData, and exists whether or not the node is there.
    Data,
    /// One-shot child watch: getChildren.
    Child,
    /// addWatch mode 0: data and child events on the path, kept after firing.
    Persistent,
    /// addWatch mode 1: data events on the path and every descendant.
    PersistentRecursive,
}

impl WatchKind {
    /// The kind for an addWatch mode (ZooDefs.AddWatchModes).
    pub fn from_add_watch_mode(mode: i32) -> Option<WatchKind> {
        match mode {
            0 => Some(WatchKind::Persistent),
            1 => Some(WatchKind::PersistentRecursive),
            _ => None,
        }
    }
}

/// Which watches checkWatches / removeWatches address (Watcher.WatcherType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherType {
    Children = 1,
    Data = 2,
    Any = 3,
    Persistent = 4,
    PersistentRecursive = 5,
}

impl WatcherType {
    pub fn from_code(code: i32) -> Option<WatcherType> {
        Some(match code {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            _ => return None,
        })
    }

    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Mode bits of one (path, watcher) entry (ZooKeeper's WatchStats).
const STANDARD: u8 = 1;
const PERSISTENT: u8 = 2;
const RECURSIVE: u8 = 4;
const ALL_MODES: u8 = STANDARD | PERSISTENT | RECURSIVE;

/// One of ZooKeeper's two WatchManagers. Both indexes are kept so a trigger
/// looks up one path and a closing connection touches only its own paths.
#[derive(Debug, Default, Clone)]
struct Table {
    by_path: HashMap<String, HashMap<WatcherId, u8>>,
    by_watcher: HashMap<WatcherId, HashSet<String>>,
    /// Entries holding the recursive mode; zero lets trigger skip ancestors.
    recursive: usize,
}

impl Table {
    fn add(&mut self, path: &str, watcher: WatcherId, mode: u8) -> bool {
        let modes = self
            .by_path
            .entry(path.to_string())
            .or_default()
            .entry(watcher)
            .or_insert(0);
        if *modes & mode != 0 {
            return false;
        }
        if *modes == 0 {
            self.by_watcher
                .entry(watcher)
                .or_default()
                .insert(path.to_string());
        }
        *modes |= mode;
        if mode == RECURSIVE {
            self.recursive += 1;
        }
        true
    }

    fn modes(&self, path: &str, watcher: WatcherId) -> u8 {
        self.by_path
            .get(path)
            .and_then(|ws| ws.get(&watcher))
            .copied()
            .unwrap_or(0)
    }

    /// Clears `mask` from one entry, dropping it (and any emptied map) when
    /// no mode is left. Returns whether anything changed.
    fn remove(&mut self, path: &str, watcher: WatcherId, mask: u8) -> bool {
        let Some(ws) = self.by_path.get_mut(path) else {
            return false;
        };
        let Some(modes) = ws.get_mut(&watcher) else {
            return false;
        };
        let old = *modes;
        let new = old & !mask;
        if old == new {
            return false;
        }
        if old & RECURSIVE != 0 && new & RECURSIVE == 0 {
            self.recursive -= 1;
        }
        if new != 0 {
            *modes = new;
            return true;
        }
        ws.remove(&watcher);
        if ws.is_empty() {
            self.by_path.remove(path);
        }
        self.forget_path_of(watcher, path);
        true
    }

    fn forget_path_of(&mut self, watcher: WatcherId, path: &str) {
        if let Some(paths) = self.by_watcher.get_mut(&watcher) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
    }

    fn remove_watcher(&mut self, watcher: WatcherId) {
        let Some(paths) = self.by_watcher.remove(&watcher) else {
            return;
        };
        for path in paths {
            if let Some(ws) = self.by_path.get_mut(&path) {
                if let Some(modes) = ws.remove(&watcher) {
                    if modes & RECURSIVE != 0 {
                        self.recursive -= 1;
                    }
                }
                if ws.is_empty() {
                    self.by_path.remove(&path);
                }
            }
        }
    }

    /// ZooKeeper's WatchManager.triggerWatch: everyone on `path` fires and
    /// loses its standard mode; on ancestors only recursive entries fire.
    fn trigger(&mut self, path: &str, fired: &mut BTreeSet<WatcherId>) {
        if let Some(ws) = self.by_path.get_mut(path) {
            let mut dropped = Vec::new();
            ws.retain(|w, modes| {
                fired.insert(*w);
                *modes &= !STANDARD;
                if *modes == 0 {
                    dropped.push(*w);
                }
                *modes != 0
            });
            if ws.is_empty() {
                self.by_path.remove(path);
            }
            for w in dropped {
                self.forget_path_of(w, path);
            }
        }
        if self.recursive == 0 {
            return;
        }
        let mut p = path;
        while let Some(parent) = parent_of(p) {
            if let Some(ws) = self.by_path.get(parent) {
                fired.extend(
                    ws.iter()
                        .filter(|(_, m)| **m & RECURSIVE != 0)
                        .map(|(w, _)| *w),
                );
            }
            p = parent;
        }
    }

    /// (path, watcher) entries: WatchManager.size().
    fn len(&self) -> usize {
        self.by_path.values().map(HashMap::len).sum()
    }
}

/// "/a/b" -> "/a", "/a" -> "/", "/" -> none.
fn parent_of(path: &str) -> Option<&str> {
    if path == "/" || path.is_empty() {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// What `wchs` prints: ZooKeeper's WatchManager.toString of the data table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSummary {
    pub connections: usize,
    pub paths: usize,
    pub watches: usize,
}

impl fmt::Display for WatchSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections watching {} paths\nTotal watches:{}",
            self.connections, self.paths, self.watches
        )
    }
}

/// All watches registered on this member.
#[derive(Debug, Default, Clone)]
pub struct WatchRegistry {
    data: Table,
    child: Table,
}

impl WatchRegistry {
    pub fn new() -> WatchRegistry {
        WatchRegistry::default()
    }

    /// Registers a watch; returns false when it was already there.
    pub fn add(&mut self, path: &str, watcher: WatcherId, kind: WatchKind) -> bool {
        match kind {
            WatchKind::Data => self.data.add(path, watcher, STANDARD),
            WatchKind::Child => self.child.add(path, watcher, STANDARD),
            WatchKind::Persistent => {
                let d = self.data.add(path, watcher, PERSISTENT);
                let c = self.child.add(path, watcher, PERSISTENT);
                d || c
            }
            WatchKind::PersistentRecursive => self.data.add(path, watcher, RECURSIVE),
        }
    }

    /// Who is told that `event` happened at `path` (in watcher order), and
    /// the one event they all get. One-shot watches that fired are removed.
    /// Event types the server never triggers (None, *WatchRemoved) notify
    /// nobody.
    pub fn trigger(&mut self, path: &str, event: EventType) -> (Vec<WatcherId>, WatchedEvent) {
        let mut fired = BTreeSet::new();
        match event {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data.trigger(path, &mut fired)
            }
            EventType::NodeChildrenChanged => self.child.trigger(path, &mut fired),
            EventType::NodeDeleted => {
                // ZooKeeper triggers the child table with the data table's
                // recipients suppressed: a set union.
                self.data.trigger(path, &mut fired);
                self.child.trigger(path, &mut fired);
            }
            EventType::None
            | EventType::DataWatchRemoved
            | EventType::ChildWatchRemoved
            | EventType::PersistentWatchRemoved => {}
        }
        let event = WatchedEvent {
            event_type: event,
            state: KeeperState::SyncConnected,
            path: path.to_string(),
        };
        (fired.into_iter().collect(), event)
    }

    /// Drops every watch of a closed connection.
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        self.data.remove_watcher(watcher);
        self.child.remove_watcher(watcher);
    }

    /// removeWatches: returns whether anything was removed (false means the
    /// server answers NoWatcher). `Any` removes every mode on the path.
    pub fn remove(&mut self, path: &str, watcher: WatcherId, which: WatcherType) -> bool {
        match which {
            WatcherType::Children => self.child.remove(path, watcher, STANDARD),
            WatcherType::Data => self.data.remove(path, watcher, STANDARD),
            WatcherType::Persistent => {
                let c = self.child.remove(path, watcher, PERSISTENT);
                let d = self.data.remove(path, watcher, PERSISTENT);
                c || d
            }
            WatcherType::PersistentRecursive => self.data.remove(path, watcher, RECURSIVE),
            WatcherType::Any => {
                let c = self.child.remove(path, watcher, ALL_MODES);
                let d = self.data.remove(path, watcher, ALL_MODES);
                c || d
            }
        }
    }

    /// checkWatches: whether `watcher` holds a watch of that type on `path`.
    pub fn contains(&self, path: &str, watcher: WatcherId, which: WatcherType) -> bool {
        match which {
            WatcherType::Children => self.child.modes(path, watcher) & STANDARD != 0,
            WatcherType::Data => self.data.modes(path, watcher) & STANDARD != 0,
            WatcherType::Persistent => self.data.modes(path, watcher) & PERSISTENT != 0,
            WatcherType::PersistentRecursive => self.data.modes(path, watcher) & RECURSIVE != 0,
            WatcherType::Any => {
                self.child.modes(path, watcher) != 0 || self.data.modes(path, watcher) != 0
            }
        }
    }

    /// `zk_watch_count`: (path, watcher) entries of both tables, as
    /// ZooKeeper counts them (a persistent watch counts twice).
    pub fn count(&self) -> usize {
        self.data.len() + self.child.len()
    }

    /// Paths with a data-table watch (the "M paths" of `wchs`).
    pub fn paths_count(&self) -> usize {
        self.data.by_path.len()
    }

    /// `wchs`. Like ZooKeeper, it reports the data table only, so plain
    /// getChildren watches do not appear in it (nor in wchc/wchp).
    pub fn summary(&self) -> WatchSummary {
        WatchSummary {
            connections: self.data.by_watcher.len(),
            paths: self.data.by_path.len(),
            watches: self.data.len(),
        }
    }

    /// `wchc`: paths per watcher (data table, as ZooKeeper), sorted.
    pub fn by_watcher(&self) -> BTreeMap<WatcherId, Vec<String>> {
        self.data
            .by_watcher
            .iter()
            .map(|(w, paths)| {
                let mut paths: Vec<String> = paths.iter().cloned().collect();
                paths.sort();
                (*w, paths)
            })
            .collect()
    }

    /// `wchp`: watchers per path (data table, as ZooKeeper), sorted.
    pub fn by_path(&self) -> BTreeMap<String, Vec<WatcherId>> {
        self.data
            .by_path
            .iter()
            .map(|(p, ws)| {
                let mut ws: Vec<WatcherId> = ws.keys().copied().collect();
                ws.sort_unstable();
                (p.clone(), ws)
            })
            .collect()
    }

    /// True when no watch of any kind is registered.
    pub fn is_empty(&self) -> bool {
        self.data.by_path.is_empty() && self.child.by_path.is_empty()
    }
}

#[cfg(test)]
mod tests;
