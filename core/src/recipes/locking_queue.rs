//! A queue whose items stay in place while a consumer works on them (kazoo
//! `LockingQueue`, same layout): items are persistent sequential
//! `<path>/entries/entry-<priority:03>-<seq>`; `get` locks the first free
//! one with an ephemeral `<path>/taken/<name>` holding this queue's id, and
//! `consume` deletes item and lock in one transaction. If the consumer's
//! session ends first, its lock goes with it and the item is offered again.

use std::sync::Mutex;
use std::time::Duration;

use super::{deadline, join, retrying, unique, wait, wakeup, OPEN};
use crate::client::{Client, Op};
use crate::types::CreateMode;
use crate::Error;

pub struct LockingQueue {
    client: Client,
    entries: String,
    taken: String,
    id: Vec<u8>,
    /// The item we hold the lock of: (name, data).
    holding: Mutex<Option<(String, Vec<u8>)>>,
}

impl LockingQueue {
    pub fn new(client: &Client, path: &str) -> LockingQueue {
        LockingQueue {
            client: client.clone(),
            entries: join(path, "entries"),
            taken: join(path, "taken"),
            id: unique().into_bytes(),
            holding: Mutex::new(None),
        }
    }

    async fn ensure_paths(&self) -> Result<(), Error> {
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.entries, &OPEN)).await?;
        retrying(c, || c.ensure_path(&self.taken, &OPEN)).await
    }

    /// Adds an item; a lower `priority` (0..=999) is taken first. A lost
    /// reply is `ConnectionLoss`, not retried: the item may be in already.
    pub async fn put(&self, data: &[u8], priority: u16) -> Result<(), Error> {
        self.put_all(&[data.to_vec()], priority).await
    }

    /// Adds every item in one transaction: all or none.
    pub async fn put_all(&self, items: &[Vec<u8>], priority: u16) -> Result<(), Error> {
        if priority > 999 {
            return Err(Error::BadArguments);
        }
        self.ensure_paths().await?;
        let name = join(&self.entries, &format!("entry-{priority:03}-"));
        let mode = CreateMode::PersistentSequential;
        let ops = items
            .iter()
            .map(|d| Op::create(&name, d, &OPEN, mode))
            .collect();
        self.client.multi(ops).await.map(|_| ())
    }

    /// Locks the first free item and returns its data, waiting up to
    /// `timeout` (`None`: until one comes); `Ok(None)` if none came. While
    /// we hold an item, `get` returns that item again.
    pub async fn get(&self, timeout: Option<Duration>) -> Result<Option<Vec<u8>>, Error> {
        if let Some((_, data)) = self.holding.lock().unwrap().clone() {
            return Ok(Some(data));
        }
        self.ensure_paths().await?;
        let until = deadline(timeout);
        let c = &self.client;
        loop {
            let (w, woken) = wakeup();
            let mut items = retrying(c, || c.get_children(&self.entries, Some(w.clone()))).await?;
            let taken = retrying(c, || c.get_children(&self.taken, Some(w.clone()))).await?;
            items.retain(|n| !taken.contains(n));
            items.sort();
            for name in items {
                if let Some(data) = self.take(&name).await? {
                    *self.holding.lock().unwrap() = Some((name, data.clone()));
                    return Ok(Some(data));
                }
            }
            if !wait(c, &woken, until).await? {
                return Ok(None);
            }
        }
    }

    /// Locks `name`; its data, or `None` if another took or consumed it.
    async fn take(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let c = &self.client;
        let lock = join(&self.taken, name);
        match c
            .create(&lock, &self.id, &OPEN, CreateMode::Ephemeral)
            .await
        {
            Ok(_) => {}
            Err(Error::NodeExists) => return Ok(None),
            Err(e) => return Err(e),
        }
        let entry = join(&self.entries, name);
        match retrying(c, || c.get_data(&entry, None)).await {
            Ok((data, _)) => Ok(Some(data)),
            Err(Error::NoNode) => {
                // Consumed meanwhile: let go of the lock we just made.
                super::remove(c, &lock).await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// True while our lock on the item we got is still there (it goes
    /// with our session).
    pub async fn holds_lock(&self) -> Result<bool, Error> {
        let Some((name, _)) = self.holding.lock().unwrap().clone() else {
            return Ok(false);
        };
        let c = &self.client;
        let lock = join(&self.taken, &name);
        retrying(c, || c.sync(&lock)).await?;
        match retrying(c, || c.get_data(&lock, None)).await {
            Ok((id, _)) => Ok(id == self.id),
            Err(Error::NoNode) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes the item we hold from the queue; false if we hold none.
    pub async fn consume(&self) -> Result<bool, Error> {
        self.finish(true).await
    }

    /// Unlocks the item we hold, leaving it in the queue for others.
    pub async fn release(&self) -> Result<bool, Error> {
        self.finish(false).await
    }

    async fn finish(&self, consume: bool) -> Result<bool, Error> {
        if !self.holds_lock().await? {
            return Ok(false);
        }
        let Some((name, _)) = self.holding.lock().unwrap().take() else {
            return Ok(false);
        };
        let mut ops = vec![Op::delete(&join(&self.taken, &name), -1)];
        if consume {
            ops.insert(0, Op::delete(&join(&self.entries, &name), -1));
        }
        self.client.multi(ops).await.map(|_| true)
    }

    /// Items in the queue, locked ones included.
    pub async fn len(&self) -> Result<usize, Error> {
        let c = &self.client;
        match retrying(c, || c.get_children(&self.entries, None)).await {
            Ok(items) => Ok(items.len()),
            Err(Error::NoNode) => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }
}
