//! A service registry: each instance of a service is an ephemeral node
//! `<root>/<service>/<id>` holding its payload, so an instance whose
//! session ends drops out of the live set by itself. `watch` calls back
//! with the live set now and after every change (an instance coming,
//! going, or changing its payload).
//!
//! On connection loss the instances stay (their session lives). On session
//! expiry they are gone; a client that renews expired sessions
//! (`ClientOptions::renew_expired`) gets this registry's instances
//! registered again in the new session, as Curator's service discovery
//! does, and its watches go on there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use super::watchers::{self, go_on, Fired, WatchHandle};
use super::{join, retrying, OPEN};
use crate::client::{Client, Watcher};
use crate::types::CreateMode;
use crate::Error;

/// One live instance of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub payload: Vec<u8>,
}

/// What this registry registered: (service, id) -> payload.
type Mine = Arc<Mutex<BTreeMap<(String, String), Vec<u8>>>>;

pub struct ServiceRegistry {
    client: Client,
    root: String,
    mine: Mine,
    /// Registers `mine` again in each new session.
    keeper: Mutex<Option<AbortHandle>>,
}

impl ServiceRegistry {
    /// A registry under `root` (e.g. "/services").
    pub fn new(client: &Client, root: &str) -> ServiceRegistry {
        ServiceRegistry {
            client: client.clone(),
            root: root.trim_end_matches('/').to_string(),
            mine: Mine::default(),
            keeper: Mutex::new(None),
        }
    }

    /// Registers instance `id` of `service` with `payload`, or replaces
    /// the payload of an instance this session registered. NodeExists if
    /// another live session holds that id; BadArguments for an empty id
    /// or service, or one with a '/'.
    pub async fn register(&self, service: &str, id: &str, payload: &[u8]) -> Result<(), Error> {
        let node = self.node(service, id)?;
        put(&self.client, &node, payload).await?;
        let key = (service.to_string(), id.to_string());
        self.mine.lock().unwrap().insert(key, payload.to_vec());
        self.keep();
        Ok(())
    }

    /// Removes an instance this session registered; false if there was
    /// none.
    pub async fn unregister(&self, service: &str, id: &str) -> Result<bool, Error> {
        let node = self.node(service, id)?;
        let key = (service.to_string(), id.to_string());
        let known = self.mine.lock().unwrap().remove(&key).is_some();
        let c = &self.client;
        let ours = match retrying(c, || c.exists(&node, None)).await? {
            Some(stat) => stat.ephemeral_owner == c.session_id(),
            None => false,
        };
        if ours {
            super::remove(c, &node).await?;
        }
        Ok(known && ours)
    }

    /// The live instances of `service`, by id.
    pub async fn instances(&self, service: &str) -> Result<Vec<Instance>, Error> {
        let dir = self.dir(service)?;
        live(&self.client, &dir, None).await
    }

    /// Calls `callback` with the live instances of `service` now and after
    /// every change, until it returns false, the handle stops it, or the
    /// session ends (it goes on in a renewed session).
    pub fn watch<F>(&self, service: &str, mut callback: F) -> Result<WatchHandle, Error>
    where
        F: FnMut(Vec<Instance>) -> bool + Send + 'static,
    {
        let (c, dir) = (self.client.clone(), self.dir(service)?);
        Ok(watchers::spawn(async move {
            // One watcher for every read: the client keeps it once per
            // node, however often it is set again.
            let fired = Fired::default();
            let w = fired.watcher();
            let mut last: Option<Vec<Instance>> = None;
            loop {
                let now = match live(&c, &dir, Some(w.clone())).await {
                    Ok(now) => now,
                    Err(Error::SessionExpired) if go_on(&c).await => continue,
                    Err(_) => return,
                };
                if last.as_ref() != Some(&now) {
                    if !callback(now.clone()) {
                        return;
                    }
                    last = Some(now);
                }
                if fired.wait(&c).await.is_none() && !go_on(&c).await {
                    return;
                }
            }
        }))
    }

    fn dir(&self, service: &str) -> Result<String, Error> {
        name(service)?;
        Ok(join(&self.root, service))
    }

    fn node(&self, service: &str, id: &str) -> Result<String, Error> {
        name(id)?;
        Ok(join(&self.dir(service)?, id))
    }

    /// Starts the task that registers this registry's instances again in
    /// each new session (only a client that renews sessions has one).
    fn keep(&self) {
        let mut keeper = self.keeper.lock().unwrap();
        if keeper.is_some() || !self.client.renews_sessions() {
            return;
        }
        let (c, root, mine) = (self.client.clone(), self.root.clone(), self.mine.clone());
        let task = tokio::spawn(async move {
            let mut state = c.state_receiver();
            let mut session = c.session_id();
            while state.changed().await.is_ok() {
                let s = *state.borrow_and_update();
                if s.is_terminal() {
                    return;
                }
                if !s.is_connected() || c.session_id() == session {
                    continue;
                }
                session = c.session_id();
                let all: Vec<_> = mine.lock().unwrap().clone().into_iter().collect();
                for ((service, id), payload) in all {
                    let node = join(&join(&root, &service), &id);
                    if let Err(e) = put(&c, &node, &payload).await {
                        tracing::warn!("cannot register {node} again: {e}");
                    }
                }
            }
        });
        *keeper = Some(task.abort_handle());
    }
}

impl Drop for ServiceRegistry {
    fn drop(&mut self) {
        if let Some(k) = self.keeper.lock().unwrap().take() {
            k.abort();
        }
    }
}

/// A service name or an instance id: one path segment.
fn name(s: &str) -> Result<(), Error> {
    if s.is_empty() || s.contains('/') {
        return Err(Error::BadArguments);
    }
    Ok(())
}

/// Creates the ephemeral instance node, or replaces the payload of ours.
async fn put(c: &Client, node: &str, payload: &[u8]) -> Result<(), Error> {
    loop {
        let created = retrying(c, || c.create(node, payload, &OPEN, CreateMode::Ephemeral)).await;
        match created {
            Ok(_) => return Ok(()),
            Err(Error::NoNode) => {
                let parent = &node[..node.rfind('/').unwrap_or(0)];
                retrying(c, || c.ensure_path(parent, &OPEN)).await?;
            }
            Err(Error::NodeExists) => match retrying(c, || c.exists(node, None)).await? {
                Some(stat) if stat.ephemeral_owner == c.session_id() => {
                    let set = retrying(c, || c.set_data(node, payload, stat.version)).await;
                    match set {
                        Ok(_) => return Ok(()),
                        // Changed or gone meanwhile: look again.
                        Err(Error::BadVersion) | Err(Error::NoNode) => {}
                        Err(e) => return Err(e),
                    }
                }
                Some(_) => return Err(Error::NodeExists),
                None => {} // gone meanwhile: create again
            },
            Err(e) => return Err(e),
        }
    }
}

/// The instances under `dir`, by id; with `w`, watches the set and each
/// instance's payload (or the creation of `dir`).
async fn live(c: &Client, dir: &str, w: Option<Watcher>) -> Result<Vec<Instance>, Error> {
    let mut ids = match retrying(c, || c.get_children(dir, w.clone())).await {
        Ok(ids) => ids,
        Err(Error::NoNode) => {
            if retrying(c, || c.exists(dir, w.clone())).await?.is_some() {
                return Box::pin(live(c, dir, w)).await; // created meanwhile
            }
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    ids.sort();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let node = join(dir, &id);
        match retrying(c, || c.get_data(&node, w.clone())).await {
            Ok((payload, _)) => out.push(Instance { id, payload }),
            Err(Error::NoNode) => {} // gone meanwhile: the child watch fired
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
