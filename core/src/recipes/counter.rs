//! A shared integer kept as decimal text in one znode (kazoo `Counter`'s
//! format for integers), changed by compare-and-set on the node's version.

use super::{retrying, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

pub struct Counter {
    client: Client,
    path: String,
    default: i64,
}

impl Counter {
    /// A counter at `path`; it reads `default` until first changed.
    pub fn new(client: &Client, path: &str, default: i64) -> Counter {
        Counter {
            client: client.clone(),
            path: path.to_string(),
            default,
        }
    }

    pub async fn value(&self) -> Result<i64, Error> {
        let c = &self.client;
        match retrying(c, || c.get_data(&self.path, None)).await {
            Ok((data, _)) => self.parse(&data),
            Err(Error::NoNode) => Ok(self.default),
            Err(e) => Err(e),
        }
    }

    /// Adds `delta` atomically and returns the new value. A lost reply is
    /// not retried blindly: the add may have happened, so the caller gets
    /// `ConnectionLoss` (ZooKeeper's unknown outcome) only from the set
    /// itself, never a double add.
    pub async fn add(&self, delta: i64) -> Result<i64, Error> {
        let c = &self.client;
        loop {
            match retrying(c, || c.get_data(&self.path, None)).await {
                Ok((data, stat)) => {
                    let next = self.parse(&data)? + delta;
                    match c
                        .set_data(&self.path, next.to_string().as_bytes(), stat.version)
                        .await
                    {
                        Ok(_) => return Ok(next),
                        Err(Error::BadVersion) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(Error::NoNode) => {
                    let next = self.default + delta;
                    if let Some(parent) = parent(&self.path) {
                        retrying(c, || c.ensure_path(parent, &OPEN)).await?;
                    }
                    let text = next.to_string();
                    let mode = CreateMode::Persistent;
                    match c.create(&self.path, text.as_bytes(), &OPEN, mode).await {
                        Ok(_) => return Ok(next),
                        Err(Error::NodeExists) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn parse(&self, data: &[u8]) -> Result<i64, Error> {
        let text = std::str::from_utf8(data)
            .map_err(|_| Error::BadArguments)?
            .trim();
        if text.is_empty() {
            return Ok(self.default);
        }
        text.parse().map_err(|_| Error::BadArguments)
    }
}

fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}
