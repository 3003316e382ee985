//! A local copy of a subtree (data and Stat of every node), kept current
//! by one persistent recursive watch, as Curator's `CuratorCache`: the
//! watch is set first, then the subtree is read, then each event makes the
//! cache read that node again, so nothing that changes during the load is
//! missed. A listener hears each node added, updated or removed, and when
//! the first load is complete.
//!
//! On connection loss the client re-registers the watch and the server
//! sends what changed meanwhile. On session expiry the cache stops, or,
//! with a client that renews sessions, loads again in the new session and
//! reports the differences.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::retrying;
use super::watchers::{self, go_on, WatchHandle};
use crate::client::{watcher, AddWatchMode, Client};
use crate::types::{EventType, Stat};
use crate::Error;

/// A node as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedNode {
    pub data: Vec<u8>,
    pub stat: Stat,
}

/// What the listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    Added(String, CachedNode),
    Updated(String, CachedNode),
    Removed(String),
    /// The first load is complete (once).
    Initialized,
}

type Nodes = Arc<Mutex<BTreeMap<String, CachedNode>>>;

pub struct TreeCache {
    nodes: Nodes,
    task: WatchHandle,
}

impl TreeCache {
    /// Starts caching the subtree at `root`; `listener` is called from the
    /// cache's task, in order.
    pub fn start<F>(client: &Client, root: &str, listener: F) -> TreeCache
    where
        F: FnMut(CacheEvent) + Send + 'static,
    {
        let nodes = Nodes::default();
        let mut run = Run {
            c: client.clone(),
            root: root.to_string(),
            nodes: nodes.clone(),
            listener: Box::new(listener),
        };
        let task = watchers::spawn(async move { run.run().await });
        TreeCache { nodes, task }
    }

    /// The cached node at `path`.
    pub fn get(&self, path: &str) -> Option<CachedNode> {
        self.nodes.lock().unwrap().get(path).cloned()
    }

    /// The cached children's names of `path`, sorted; None if the node is
    /// not cached.
    pub fn children(&self, path: &str) -> Option<Vec<String>> {
        let nodes = self.nodes.lock().unwrap();
        nodes.get(path)?;
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let names = nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| &p[prefix.len()..])
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect();
        Some(names)
    }

    /// Every cached path, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.nodes.lock().unwrap().keys().cloned().collect()
    }

    pub fn stop(&self) {
        self.task.stop();
    }

    /// False once stopped or the session ended (without renewal).
    pub fn is_running(&self) -> bool {
        self.task.is_running()
    }
}

impl Drop for TreeCache {
    fn drop(&mut self) {
        self.task.stop();
    }
}

struct Run {
    c: Client,
    root: String,
    nodes: Nodes,
    listener: Box<dyn FnMut(CacheEvent) + Send>,
}

impl Run {
    async fn run(&mut self) {
        let mut initialized = false;
        loop {
            match self.session(&mut initialized).await {
                Err(Error::SessionExpired) if go_on(&self.c).await => continue,
                _ => return,
            }
        }
    }

    /// One session: watch, load, then follow the events.
    async fn session(&mut self, initialized: &mut bool) -> Result<(), Error> {
        let (tx, mut events) = mpsc::unbounded_channel();
        let w = watcher(move |e| {
            let _ = tx.send(e);
        });
        let (c, root) = (self.c.clone(), self.root.clone());
        retrying(&c, || {
            c.add_watch(&root, AddWatchMode::PersistentRecursive, w.clone())
        })
        .await?;
        // The watch stays with the session when the cache stops (removing
        // it would remove every recursive watch of this client on `root`);
        // its events then go nowhere.
        self.follow(&mut events, initialized).await
    }

    async fn follow(
        &mut self,
        events: &mut mpsc::UnboundedReceiver<crate::types::WatchedEvent>,
        initialized: &mut bool,
    ) -> Result<(), Error> {
        let loaded = load(&self.c, &self.root).await?;
        self.replace_all(loaded);
        if !*initialized {
            *initialized = true;
            (self.listener)(CacheEvent::Initialized);
        }
        let c = self.c.clone();
        let mut state = c.state_receiver();
        let session = c.session_id();
        loop {
            let over = async {
                let _ = state
                    .wait_for(|s| super::session_over(&c, *s, session))
                    .await;
            };
            let next = tokio::select! {
                e = events.recv() => e,
                () = over => None,
            };
            match next {
                Some(e) => self.refresh(&e.path, e.event_type).await?,
                None => return Err(Error::SessionExpired),
            }
        }
    }

    /// Reads `path` again after an event on it.
    async fn refresh(&mut self, path: &str, event: EventType) -> Result<(), Error> {
        if event == EventType::NodeDeleted {
            self.remove_subtree(path);
            return Ok(());
        }
        let c = &self.c;
        match retrying(c, || c.get_data(path, None)).await {
            Ok((data, stat)) => self.put(path, CachedNode { data, stat }),
            Err(Error::NoNode) => self.remove_subtree(path),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn put(&mut self, path: &str, node: CachedNode) {
        let old = self
            .nodes
            .lock()
            .unwrap()
            .insert(path.to_string(), node.clone());
        match old {
            None => (self.listener)(CacheEvent::Added(path.to_string(), node)),
            Some(o) if o.stat.mzxid != node.stat.mzxid || o.data != node.data => {
                (self.listener)(CacheEvent::Updated(path.to_string(), node))
            }
            Some(_) => {}
        }
    }

    fn remove_subtree(&mut self, path: &str) {
        let gone: Vec<String> = {
            let mut nodes = self.nodes.lock().unwrap();
            let prefix = format!("{}/", path.trim_end_matches('/'));
            let under: Vec<String> = nodes
                .range(path.to_string()..)
                .take_while(|(p, _)| p.as_str() == path || p.starts_with(&prefix))
                .map(|(p, _)| p.clone())
                .collect();
            for p in &under {
                nodes.remove(p);
            }
            under
        };
        // Deepest first, as a client deleting the subtree would see it.
        for p in gone.into_iter().rev() {
            (self.listener)(CacheEvent::Removed(p));
        }
    }

    /// A fresh load replaces the cache: reports what differs.
    fn replace_all(&mut self, loaded: BTreeMap<String, CachedNode>) {
        let old: Vec<String> = self.nodes.lock().unwrap().keys().cloned().collect();
        for p in old.into_iter().rev() {
            if !loaded.contains_key(&p) {
                self.nodes.lock().unwrap().remove(&p);
                (self.listener)(CacheEvent::Removed(p));
            }
        }
        for (p, n) in loaded {
            self.put(&p, n);
        }
    }
}

/// Every node of the subtree, read now.
async fn load(c: &Client, root: &str) -> Result<BTreeMap<String, CachedNode>, Error> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_string()];
    while let Some(path) = todo.pop() {
        let (data, stat) = match retrying(c, || c.get_data(&path, None)).await {
            Ok(found) => found,
            Err(Error::NoNode) => continue, // gone meanwhile; its event follows
            Err(e) => return Err(e),
        };
        let kids = match retrying(c, || c.get_children(&path, None)).await {
            Ok(kids) => kids,
            Err(Error::NoNode) => Vec::new(),
            Err(e) => return Err(e),
        };
        todo.extend(kids.iter().map(|k| super::join(&path, k)));
        out.insert(path, CachedNode { data, stat });
    }
    Ok(out)
}
