//! Lock, read/write lock and semaphore: kazoo's layout. Each contender is an
//! ephemeral sequential child `<uuid>__lock__<seq>` (readers `__rlock__`)
//! holding its identifier; the lowest sequence holds the lock, and each
//! waiter watches only the contender just before it (no herd).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;

use super::{
    children, data_of, deadline, join, next_session, remove, retrying, sequence, unique, wait,
    wakeup, Cancel, Held, OPEN,
};
use crate::client::{Client, SessionState};
use crate::types::CreateMode;
use crate::Error;

const EXCLUSIVE: &str = "__lock__";
const SHARED: &str = "__rlock__";

/// A distributed mutex (kazoo `Lock`, `WriteLock`), or with
/// [`Lock::read`] a shared lock that excludes only writers (`ReadLock`).
/// Held while the session lives: see the module docs for loss and expiry.
pub struct Lock {
    client: Client,
    path: String,
    identifier: Vec<u8>,
    marker: &'static str,
    /// `<uuid><marker>`: finds our node again after a lost create reply.
    prefix: String,
    /// Our node while we hold the lock.
    held: Held,
    cancel: Cancel,
    /// One `acquire` at a time per Lock value (kazoo's method lock): two
    /// threads sharing one Lock must not both find our node and both win.
    turn: tokio::sync::Mutex<()>,
    released: Notify,
}

impl Lock {
    /// An exclusive lock on `path` (a write lock, for [`Lock::read`]ers).
    pub fn new(client: &Client, path: &str, identifier: &[u8]) -> Lock {
        Self::with_marker(client, path, identifier, EXCLUSIVE)
    }

    /// A read lock on `path`: many readers hold it at once, none while a
    /// writer that queued earlier waits or holds.
    pub fn read(client: &Client, path: &str, identifier: &[u8]) -> Lock {
        Self::with_marker(client, path, identifier, SHARED)
    }

    fn with_marker(client: &Client, path: &str, identifier: &[u8], marker: &'static str) -> Lock {
        Lock {
            client: client.clone(),
            path: path.to_string(),
            identifier: identifier.to_vec(),
            marker,
            prefix: format!("{}{marker}", unique()),
            held: Held::default(),
            cancel: Cancel::default(),
            turn: tokio::sync::Mutex::new(()),
            released: Notify::new(),
        }
    }

    /// Waits for the lock; `Ok(false)` if `timeout` passed first (then we
    /// are no longer queued). `Some(Duration::ZERO)` only tries. While
    /// this value holds the lock (for another task), waits for its release.
    pub async fn acquire(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        self.acquire_with(timeout, true).await
    }

    /// [`Lock::acquire`]; with `ephemeral` false our node outlives the
    /// session (kazoo's `acquire(ephemeral=False)`): the lock is then held
    /// until released, whatever happens to the session.
    pub async fn acquire_with(
        &self,
        timeout: Option<Duration>,
        ephemeral: bool,
    ) -> Result<bool, Error> {
        let _turn = match self.take_turn(timeout).await {
            Some(turn) => turn,
            None => return Ok(false),
        };
        self.cancel.begin();
        let mode = if ephemeral {
            CreateMode::EphemeralSequential
        } else {
            CreateMode::PersistentSequential
        };
        tokio::select! {
            r = self.queue_again(timeout, mode) => r,
            () = self.cancel.requested() => {
                // The dropped wait left our node to a background delete;
                // delete it now so the queue is right when we return.
                if let Some(mine) = self.find_own().await? {
                    remove(&self.client, &mine).await?;
                }
                Ok(false)
            }
        }
    }

    /// The right to run `acquire` on this value, once it does not hold the
    /// lock: another thread's hold through the same value is waited out
    /// (kazoo's threads share one Lock so). `None` when `timeout` ran out.
    async fn take_turn(
        &self,
        timeout: Option<Duration>,
    ) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        let until = deadline(timeout);
        let only_try = timeout.is_some_and(|t| t.is_zero());
        loop {
            let turn = match until {
                _ if only_try => self.turn.try_lock().ok()?,
                Some(d) => tokio::time::timeout_at(d, self.turn.lock()).await.ok()?,
                None => self.turn.lock().await,
            };
            if !self.is_acquired() {
                return Some(turn);
            }
            if only_try {
                return None;
            }
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            drop(turn);
            match until {
                Some(d) => tokio::time::timeout_at(d, released).await.ok()?,
                None => released.await,
            }
        }
    }

    /// Makes a waiting `acquire` leave the queue and return `Ok(false)`;
    /// [`Lock::was_cancelled`] then tells it apart from a timeout.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// `cancel` was called since the last `acquire` began.
    pub fn was_cancelled(&self) -> bool {
        self.cancel.was_cancelled()
    }

    /// Our node's name under the lock path while we hold the lock.
    pub fn node(&self) -> Option<String> {
        let node = self.held.node()?;
        Some(node.rsplit('/').next().unwrap_or(&node).to_string())
    }

    /// Queues; when the session expires meanwhile and the client opens a
    /// new one, queues again in the new session (kazoo's retry does so).
    async fn queue_again(
        &self,
        timeout: Option<Duration>,
        mode: CreateMode,
    ) -> Result<bool, Error> {
        let until = deadline(timeout);
        loop {
            let left = until.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            match self.queue_for(left, mode).await {
                Err(Error::SessionExpired) => next_session(&self.client).await?,
                other => return other,
            }
        }
    }

    async fn queue_for(&self, timeout: Option<Duration>, mode: CreateMode) -> Result<bool, Error> {
        let until = deadline(timeout);
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.path, &OPEN)).await?;
        let mut queued = Queued {
            client: c,
            node: Some(self.enqueue(mode).await?),
        };
        loop {
            let node = queued.node.clone().unwrap_or_default();
            let blocker = match self.blocker(&node).await {
                Ok(b) => b,
                Err(Error::NoNode) => {
                    queued.node = Some(self.enqueue(mode).await?); // ours was deleted
                    continue;
                }
                Err(e) => return self.give_up(queued, Err(e)).await,
            };
            let Some(before) = blocker else {
                let ephemeral = mode == CreateMode::EphemeralSequential;
                self.held
                    .set(c, queued.node.take().unwrap_or(node), ephemeral);
                return Ok(true);
            };
            let (w, woken) = wakeup();
            match retrying(c, || c.exists(&before, Some(w.clone()))).await {
                Ok(None) => continue,
                Ok(Some(_)) => {}
                Err(e) => return self.give_up(queued, Err(e)).await,
            }
            match wait(c, &woken, until).await {
                Ok(true) => {}
                other => return self.give_up(queued, other).await,
            }
        }
    }

    /// Takes the lock only if it is free now.
    pub async fn try_acquire(&self) -> Result<bool, Error> {
        self.acquire(Some(Duration::ZERO)).await
    }

    /// Leaves the queue after a timeout or error, then reports `outcome`.
    async fn give_up(
        &self,
        mut queued: Queued<'_>,
        outcome: Result<bool, Error>,
    ) -> Result<bool, Error> {
        if let Some(node) = queued.node.take() {
            let _ = remove(&self.client, &node).await;
        }
        outcome
    }

    /// Creates our contender node; after a lost reply, looks for it first.
    async fn enqueue(&self, mode: CreateMode) -> Result<String, Error> {
        let c = &self.client;
        loop {
            if let Some(mine) = self.find_own().await? {
                return Ok(mine);
            }
            let want = join(&self.path, &self.prefix);
            match c.create(&want, &self.identifier, &OPEN, mode).await {
                Ok(p) => return Ok(p),
                Err(Error::ConnectionLoss) | Err(Error::OperationTimeout) => {
                    super::reconnected(c).await?
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn find_own(&self) -> Result<Option<String>, Error> {
        let c = &self.client;
        let children = retrying(c, || c.get_children(&self.path, None)).await?;
        Ok(children
            .into_iter()
            .find(|n| n.starts_with(&self.prefix))
            .map(|n| join(&self.path, &n)))
    }

    /// The contender we wait for, `None` if we hold the lock; `NoNode` if
    /// our own node is gone.
    async fn blocker(&self, node: &str) -> Result<Option<String>, Error> {
        let c = &self.client;
        let queue = contenders(&retrying(c, || c.get_children(&self.path, None)).await?);
        let mine = node.rsplit('/').next().unwrap_or(node);
        let Some(at) = queue.iter().position(|n| n == mine) else {
            return Err(Error::NoNode);
        };
        let blocks = |n: &&String| self.marker == EXCLUSIVE || n.contains(EXCLUSIVE);
        Ok(queue[..at]
            .iter()
            .rev()
            .find(blocks)
            .map(|n| join(&self.path, n)))
    }

    /// Deletes our node. `Ok(false)` if we did not hold the lock.
    pub async fn release(&self) -> Result<bool, Error> {
        let Some(node) = self.held.take() else {
            return Ok(false);
        };
        let removed = remove(&self.client, &node).await;
        self.released.notify_waiters();
        removed.map(|()| true)
    }

    /// True while we hold the lock and the session lives. After expiry
    /// the lock is gone (the server deleted our node): false.
    pub fn is_acquired(&self) -> bool {
        self.held.is_held(&self.client)
    }

    /// Identifiers of the holders and waiters, in queue order.
    pub async fn contenders(&self) -> Result<Vec<Vec<u8>>, Error> {
        let names = contenders(&children(&self.client, &self.path).await?);
        data_of(&self.client, &self.path, &names).await
    }
}

/// Our node while `acquire` waits. If the caller drops the waiting future
/// (a timeout around it, a task aborted), the node is deleted in the
/// background so that it does not block the line until the session ends.
struct Queued<'a> {
    client: &'a Client,
    node: Option<String>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let (Some(node), Ok(rt)) = (self.node.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let c = self.client.clone();
        rt.spawn(async move {
            let _ = remove(&c, &node).await;
        });
    }
}

/// Lock nodes of both kinds, lowest sequence first.
fn contenders(children: &[String]) -> Vec<String> {
    let mut q: Vec<&String> = children
        .iter()
        .filter(|n| n.contains(EXCLUSIVE) || n.contains(SHARED))
        .filter(|n| sequence(n).is_some())
        .collect();
    q.sort_by_key(|n| sequence(n));
    q.into_iter().cloned().collect()
}

/// At most `max_leases` holders at once (kazoo `Semaphore`): an internal
/// lock at `<path>/lock` lets one contender at a time count the leases
/// under `<path>/leases` and add its own ephemeral lease.
pub struct Semaphore {
    client: Client,
    path: String,
    leases: String,
    identifier: Vec<u8>,
    max_leases: usize,
    gate: Lock,
    lease: Held,
    cancel: Cancel,
    /// Told each time a waiting acquire wakes (kazoo's `wake_event`).
    on_wake: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Semaphore {
    pub fn new(client: &Client, path: &str, identifier: &[u8], max_leases: usize) -> Semaphore {
        Semaphore {
            client: client.clone(),
            path: path.to_string(),
            leases: join(path, "leases"),
            identifier: identifier.to_vec(),
            max_leases,
            gate: Lock::new(client, &join(path, "lock"), identifier),
            lease: Held::default(),
            cancel: Cancel::default(),
            on_wake: None,
        }
    }

    /// Calls `f` each time a waiting acquire wakes: the leases changed,
    /// the session ended or `cancel` was called.
    pub fn on_wake(mut self, f: impl Fn() + Send + Sync + 'static) -> Semaphore {
        self.on_wake = Some(Arc::new(f));
        self
    }

    /// While an acquire runs: each session expiry wakes it (kazoo sets
    /// `wake_event` on LOST wherever the acquire is).
    async fn wake_on_expiry(&self) {
        // Every state, not the latest: a renewing client passes Expired
        // on its way to the new session.
        let mut states = self.client.subscribe_state();
        loop {
            match states.recv().await {
                Ok(SessionState::Expired) => self.woke(),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => std::future::pending().await,
            }
        }
    }

    fn woke(&self) {
        if let Some(f) = &self.on_wake {
            f();
        }
    }

    /// Waits for a lease; `Ok(false)` if `timeout` passed first or
    /// [`Semaphore::cancel`] was called meanwhile.
    pub async fn acquire(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        if self.is_acquired() {
            return Ok(true);
        }
        self.cancel.begin();
        tokio::select! {
            r = self.acquire_inner(timeout) => r,
            () = self.wake_on_expiry() => unreachable!("runs until the acquire ends"),
            () = self.cancel.requested() => {
                self.woke();
                // The gate, if we held it, goes back; a queued gate node
                // is deleted by the dropped wait.
                self.gate.release().await?;
                Ok(false)
            }
        }
    }

    /// Makes a waiting `acquire` give up and return `Ok(false)`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// `cancel` was called since the last `acquire` began.
    pub fn was_cancelled(&self) -> bool {
        self.cancel.was_cancelled()
    }

    /// Takes a lease; when the session expires meanwhile and the client
    /// opens a new one, tries again there (kazoo's retry does so).
    async fn acquire_inner(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let until = deadline(timeout);
        loop {
            let left = until.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            let attempt = async {
                self.check_max_leases().await?;
                self.gated(left).await
            };
            match attempt.await {
                Err(Error::SessionExpired) => next_session(&self.client).await?,
                other => return other,
            }
        }
    }

    /// One contender at a time counts the leases: through the gate lock.
    async fn gated(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        if !self.gate.acquire(timeout).await? {
            return Ok(false);
        }
        let got = self.take_lease(deadline(timeout)).await;
        self.gate.release().await?;
        got
    }

    /// kazoo keeps `max_leases` as the semaphore node's data: the first
    /// contender writes it; one that counts differently gets BadArguments
    /// (data that is not a number is left alone, as kazoo does).
    async fn check_max_leases(&self) -> Result<(), Error> {
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.path, &OPEN)).await?;
        let (data, stat) = retrying(c, || c.get_data(&self.path, None)).await?;
        let ours = self.max_leases.to_string();
        if data.is_empty() {
            return match c.set_data(&self.path, ours.as_bytes(), stat.version).await {
                Ok(_) | Err(Error::BadVersion) => Ok(()),
                Err(e) => Err(e),
            };
        }
        match std::str::from_utf8(&data)
            .ok()
            .and_then(|t| t.trim().parse::<usize>().ok())
        {
            Some(n) if n != self.max_leases => Err(Error::BadArguments),
            _ => Ok(()),
        }
    }

    async fn take_lease(&self, until: Option<tokio::time::Instant>) -> Result<bool, Error> {
        let c = &self.client;
        retrying(c, || c.ensure_path(&self.leases, &OPEN)).await?;
        loop {
            let (w, woken) = wakeup();
            let held = retrying(c, || c.get_children(&self.leases, Some(w.clone()))).await?;
            if held.len() < self.max_leases {
                let node = join(&self.leases, &unique());
                let mode = CreateMode::Ephemeral;
                retrying(c, || c.create(&node, &self.identifier, &OPEN, mode))
                    .await
                    .or_else(|e| {
                        if e == Error::NodeExists {
                            Ok(node.clone())
                        } else {
                            Err(e)
                        }
                    })?;
                self.lease.set(c, node, true);
                return Ok(true);
            }
            if !wait(c, &woken, until).await? {
                return Ok(false);
            }
            self.woke();
        }
    }

    /// Gives the lease back. `Ok(false)` if we held none.
    pub async fn release(&self) -> Result<bool, Error> {
        let Some(node) = self.lease.take() else {
            return Ok(false);
        };
        remove(&self.client, &node).await.map(|()| true)
    }

    /// True while we hold a lease and the session lives.
    pub fn is_acquired(&self) -> bool {
        self.lease.is_held(&self.client)
    }

    /// Identifiers of the current lease holders.
    pub async fn lease_holders(&self) -> Result<Vec<Vec<u8>>, Error> {
        let names = children(&self.client, &self.leases).await?;
        data_of(&self.client, &self.leases, &names).await
    }
}
