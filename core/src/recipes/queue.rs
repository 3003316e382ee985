//! A FIFO queue with priorities (kazoo `Queue`): each item is a persistent
//! sequential child `entry-<priority:03>-<seq>`, so name order is priority
//! order, then arrival order. An item is taken by whoever deletes it.

use std::time::Duration;

use super::{deadline, join, retrying, wait, wakeup, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

pub struct Queue {
    client: Client,
    path: String,
}

impl Queue {
    pub fn new(client: &Client, path: &str) -> Queue {
        Queue {
            client: client.clone(),
            path: path.to_string(),
        }
    }

    /// Adds an item; a lower `priority` (0..=999) is taken first. A lost
    /// reply is returned as `ConnectionLoss`, not retried: the item may be
    /// in the queue already.
    pub async fn put(&self, data: &[u8], priority: u16) -> Result<(), Error> {
        if priority > 999 {
            return Err(Error::BadArguments);
        }
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.path, &OPEN)).await?;
        let name = join(&self.path, &format!("entry-{priority:03}-"));
        let mode = CreateMode::PersistentSequential;
        c.create(&name, data, &OPEN, mode).await.map(|_| ())
    }

    /// Takes the first item, or `None` if the queue is empty.
    pub async fn get(&self) -> Result<Option<Vec<u8>>, Error> {
        self.take(None).await
    }

    /// Takes the first item, waiting up to `timeout` for one to arrive.
    pub async fn get_wait(&self, timeout: Option<Duration>) -> Result<Option<Vec<u8>>, Error> {
        let until = deadline(timeout);
        loop {
            let (w, woken) = wakeup();
            if let Some(item) = self.take(Some(w)).await? {
                return Ok(Some(item));
            }
            if !wait(&self.client, &woken, until).await? {
                return Ok(None);
            }
        }
    }

    async fn take(&self, w: Option<crate::client::Watcher>) -> Result<Option<Vec<u8>>, Error> {
        let c = &self.client;
        let mut items = match retrying(c, || c.get_children(&self.path, w.clone())).await {
            Ok(items) => items,
            Err(Error::NoNode) => return Ok(None),
            Err(e) => return Err(e),
        };
        items.sort();
        for name in items.iter().filter(|n| n.starts_with("entry-")) {
            let node = join(&self.path, name);
            let data = match retrying(c, || c.get_data(&node, None)).await {
                Ok((data, _)) => data,
                Err(Error::NoNode) => continue,
                Err(e) => return Err(e),
            };
            // Whoever deletes it owns it. After a lost delete reply the
            // caller gets ConnectionLoss: the item may be gone.
            match c.delete(&node, -1).await {
                Ok(()) => return Ok(Some(data)),
                Err(Error::NoNode) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Items waiting now.
    pub async fn len(&self) -> Result<usize, Error> {
        let c = &self.client;
        match retrying(c, || c.get_children(&self.path, None)).await {
            Ok(items) => Ok(items.iter().filter(|n| n.starts_with("entry-")).count()),
            Err(Error::NoNode) => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }
}
