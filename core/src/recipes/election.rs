//! Leader election: [`Election`] runs a task while holding a lock (kazoo
//! `Election`); [`LeaderLatch`] keeps a candidate in line and tells whether
//! it leads now (Curator `LeaderLatch`). Both use kazoo's lock layout, so
//! candidates in other languages and kazoo itself line up in one queue.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{deadline, Lock};
use crate::client::Client;
use crate::Error;

/// Runs a task as the leader: waits in line, runs it, steps down.
pub struct Election {
    lock: Lock,
}

impl Election {
    pub fn new(client: &Client, path: &str, identifier: &[u8]) -> Election {
        Election {
            lock: Lock::new(client, path, identifier),
        }
    }

    /// Waits to be elected, runs `task`, then steps down (also if `task`
    /// fails); `None` without running it if [`Election::cancel`] came
    /// first (kazoo's `run` returns None then). The session may expire
    /// while `task` runs; a task that must stop then should watch the
    /// client's state.
    pub async fn run<T, F, Fut>(&self, task: F) -> Result<Option<T>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if !self.lead().await? {
            return Ok(None);
        }
        let out = task().await;
        self.step_down().await?;
        Ok(Some(out))
    }

    /// Waits to be elected: true once leading, false if [`Election::cancel`]
    /// was called first. The first half of [`Election::run`], for callers
    /// whose task is not a Rust future (a C function, a JavaScript one).
    pub async fn lead(&self) -> Result<bool, Error> {
        self.lock.acquire(None).await
    }

    /// Steps down after [`Election::lead`]; false if not leading.
    pub async fn step_down(&self) -> Result<bool, Error> {
        self.lock.release().await
    }

    /// Makes a waiting `run` or `lead` leave the line (kazoo's `cancel`).
    pub fn cancel(&self) {
        self.lock.cancel()
    }

    /// Identifiers of the leader and the candidates, leader first.
    pub async fn contenders(&self) -> Result<Vec<Vec<u8>>, Error> {
        self.lock.contenders().await
    }
}

/// A candidate that stays in line until closed and tells whether it leads.
/// Leadership needs a connected session: it reads false while the client
/// is disconnected, and for good after the session expires.
pub struct LeaderLatch {
    client: Client,
    lock: Arc<Lock>,
    leads: watch::Receiver<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl LeaderLatch {
    /// Joins the line for `path` (a tokio runtime must be current).
    pub fn start(client: &Client, path: &str, identifier: &[u8]) -> LeaderLatch {
        let lock = Arc::new(Lock::new(client, path, identifier));
        let (tx, rx) = watch::channel(false);
        let queued = lock.clone();
        let task = tokio::spawn(async move {
            if let Ok(true) = queued.acquire(None).await {
                let _ = tx.send(true);
            }
            // Dropping `tx` here would read as "closed"; keep it alive.
            tx.closed().await;
        });
        LeaderLatch {
            client: client.clone(),
            lock,
            leads: rx,
            task: Mutex::new(Some(task)),
        }
    }

    /// True while this candidate leads and its session is connected.
    pub fn has_leadership(&self) -> bool {
        *self.leads.borrow() && self.lock.is_acquired() && self.client.state().is_connected()
    }

    /// Waits until this candidate leads; `Ok(false)` after `timeout`,
    /// `Err(SessionExpired)` if the session ended first.
    pub async fn await_leadership(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let until = deadline(timeout);
        let mut leads = self.leads.clone();
        let mut state = self.client.state_receiver();
        loop {
            if self.has_leadership() {
                return Ok(true);
            }
            if self.client.state().is_terminal() {
                return Err(Error::SessionExpired);
            }
            let until_fut = async {
                match until {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = leads.changed() => {}
                _ = state.changed() => {}
                () = until_fut => return Ok(false),
            }
        }
    }

    /// Leaves the line (and the lead): the next candidate takes over.
    pub async fn close(&self) -> Result<(), Error> {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        // A candidate still in line: aborting its acquire removed its node.
        self.lock.release().await.map(|_| ())
    }
}
