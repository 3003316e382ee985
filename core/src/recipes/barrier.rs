//! Barriers: [`Barrier`] holds everyone until its node is removed;
//! [`DoubleBarrier`] lets a fixed number of members enter together and
//! leave together.

use std::time::Duration;

use super::{deadline, join, remove, retrying, unique, wait, wakeup, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

/// Clients wait while the barrier node exists (kazoo `Barrier`).
pub struct Barrier {
    client: Client,
    path: String,
}

impl Barrier {
    pub fn new(client: &Client, path: &str) -> Barrier {
        Barrier {
            client: client.clone(),
            path: path.to_string(),
        }
    }

    /// Raises the barrier (a persistent node; fine if already up).
    pub async fn create(&self) -> Result<(), Error> {
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.path, &OPEN)).await
    }

    /// Lowers it. `Ok(false)` if it was not up.
    pub async fn remove(&self) -> Result<bool, Error> {
        let c = &self.client;
        match retrying(c, || c.delete(&self.path, -1)).await {
            Ok(()) => Ok(true),
            Err(Error::NoNode) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits until the barrier is down; `Ok(false)` if `timeout` passed.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let until = deadline(timeout);
        let c = &self.client;
        loop {
            let (w, woken) = wakeup();
            if retrying(c, || c.exists(&self.path, Some(w.clone())))
                .await?
                .is_none()
            {
                return Ok(true);
            }
            if !wait(c, &woken, until).await? {
                return Ok(false);
            }
        }
    }
}

/// `num_clients` members enter together and leave together (the
/// ZooKeeper double-barrier recipe): each member is an ephemeral child; the
/// one that completes the count creates `ready`; leaving waits until every
/// member's node is gone.
pub struct DoubleBarrier {
    client: Client,
    path: String,
    num_clients: usize,
    node: String,
    identifier: Vec<u8>,
    /// Between a successful `enter` and `leave` (kazoo's `participating`).
    entered: std::sync::atomic::AtomicBool,
}

const READY: &str = "ready";

impl DoubleBarrier {
    pub fn new(
        client: &Client,
        path: &str,
        num_clients: usize,
        identifier: &[u8],
    ) -> DoubleBarrier {
        DoubleBarrier {
            client: client.clone(),
            path: path.to_string(),
            num_clients,
            node: join(path, &unique()),
            identifier: identifier.to_vec(),
            entered: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The path of our member node (kazoo's `create_path`).
    pub fn node_path(&self) -> &str {
        &self.node
    }

    /// True between a successful `enter` and `leave`.
    pub fn is_participating(&self) -> bool {
        self.entered.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Joins and waits until `num_clients` members have joined.
    pub async fn enter(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let entered = self.enter_inner(timeout).await;
        if let Ok(true) = entered {
            self.entered
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        entered
    }

    async fn enter_inner(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let until = deadline(timeout);
        let c = &self.client;
        let open = &*OPEN;
        retrying(c, || c.ensure_path(&self.path, open)).await?;
        let ready = join(&self.path, READY);
        match retrying(c, || {
            c.create(&self.node, &self.identifier, open, CreateMode::Ephemeral)
        })
        .await
        {
            Ok(_) | Err(Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
        loop {
            let (w, woken) = wakeup();
            if retrying(c, || c.exists(&ready, Some(w.clone())))
                .await?
                .is_some()
            {
                return Ok(true);
            }
            if self.members().await?.len() >= self.num_clients {
                match retrying(c, || c.create(&ready, b"", open, CreateMode::Persistent)).await {
                    Ok(_) | Err(Error::NodeExists) => return Ok(true),
                    Err(e) => return Err(e),
                }
            }
            if !wait(c, &woken, until).await? {
                let _ = remove(c, &self.node).await;
                return Ok(false);
            }
        }
    }

    /// Leaves and waits until every member has left.
    pub async fn leave(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.entered
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let until = deadline(timeout);
        let c = &self.client;
        match retrying(c, || c.delete(&self.node, -1)).await {
            Ok(()) | Err(Error::NoNode) => {}
            Err(e) => return Err(e),
        }
        loop {
            let (w, woken) = wakeup();
            let left = retrying(c, || c.get_children(&self.path, Some(w.clone()))).await?;
            if left.iter().all(|n| n == READY) {
                let ready = join(&self.path, READY);
                match retrying(c, || c.delete(&ready, -1)).await {
                    Ok(()) | Err(Error::NoNode) => return Ok(true),
                    Err(e) => return Err(e),
                }
            }
            if !wait(c, &woken, until).await? {
                return Ok(false);
            }
        }
    }

    async fn members(&self) -> Result<Vec<String>, Error> {
        let c = &self.client;
        let children = retrying(c, || c.get_children(&self.path, None)).await?;
        Ok(children.into_iter().filter(|n| n != READY).collect())
    }
}
