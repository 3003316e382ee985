//! Coordination recipes built only on the public [`Client`] API, with
//! kazoo's node layouts so that kazoo and zkrs processes can share a lock,
//! an election or a queue.
//!
//! What every recipe does when the connection or the session goes:
//! - **Connection loss** (the client reconnects with the same session): a
//!   call in progress waits for the reconnect and goes on; what the session
//!   holds (lock nodes, leases, party membership) stays, because ephemeral
//!   nodes live as long as the session, not the connection. A leader latch
//!   reports no leadership while disconnected (another member may already
//!   see the session as gone) and re-checks after the reconnect.
//! - **Session expiry**: the server has deleted the session's ephemeral
//!   nodes, so every lock, lease, membership and leadership is gone. The
//!   recipes report it: `is_acquired`/`has_leadership` turn false, waits
//!   end with [`Error::SessionExpired`]. Nothing is silently held. A client
//!   that renews expired sessions (`ClientOptions::renew_expired`, kazoo's
//!   behaviour) lets a waiting lock acquire queue again in the new session
//!   and standing watches go on there; what was held stays lost.
//!
//! ```no_run
//! use std::time::Duration;
//! use zkrs::client::{Client, ClientOptions};
//! use zkrs::recipes::{Counter, Lock};
//!
//! # async fn run() -> Result<(), zkrs::Error> {
//! let zk = Client::connect("127.0.0.1:2181", ClientOptions::default()).await?;
//! let lock = Lock::new(&zk, "/app/lock", b"worker-1");
//! if lock.acquire(Some(Duration::from_secs(5))).await? {
//!     let runs = Counter::new(&zk, "/app/runs", 0).add(1).await?;
//!     println!("run {runs}");
//!     lock.release().await?;
//! }
//! # Ok(())
//! # }
//! ```

mod barrier;
mod counter;
mod election;
mod lease;
mod lock;
mod locking_queue;
mod partitioner;
mod party;
mod queue;
mod registry;
mod tree_cache;
mod watchers;

pub use barrier::{Barrier, DoubleBarrier};
pub use counter::{Counter, CounterFormat, Number};
pub use election::{Election, LeaderLatch};
pub use lease::{obtain_lease, obtain_one_of, utc_now};
pub use lock::{Lock, Semaphore};
pub use locking_queue::LockingQueue;
pub use partitioner::{
    stride, PartitionFn, PartitionState, PartitionerOptions, SetPartitioner, StateListener,
};
pub use party::{Party, ShallowParty};
pub use queue::Queue;
pub use registry::{Instance, ServiceRegistry};
pub use tree_cache::{CacheEvent, CachedNode, TreeCache};
pub use watchers::{ChildrenWatch, DataWatch, WatchHandle};

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::{watcher, Client, SessionState, Watcher};
use crate::tree::join_child as join;
use crate::types::Acl;
use crate::Error;

/// Recipe nodes are open to all, as kazoo creates them by default.
static OPEN: LazyLock<Vec<Acl>> = LazyLock::new(Acl::open_unsafe);

/// A watcher that wakes one waiter; a wake-up before the wait is kept.
fn wakeup() -> (Watcher, Arc<Notify>) {
    let n = Arc::new(Notify::new());
    let woken = n.clone();
    (watcher(move |_| woken.notify_one()), n)
}

/// Waits for `woken`, the deadline (`Ok(false)`), or the end of the
/// session (`Err`). A disconnect alone does not end the wait: the client
/// re-registers its watches when it reconnects.
async fn wait(client: &Client, woken: &Notify, deadline: Option<Instant>) -> Result<bool, Error> {
    let mut state = client.state_receiver();
    let session = client.session_id();
    let ended = state.wait_for(|s| session_over(client, *s, session));
    let until = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = woken.notified() => Ok(true),
        () = until => Ok(false),
        _ = ended => Err(Error::SessionExpired),
    }
}

/// Runs `op` until it returns something other than a lost connection,
/// waiting for the reconnect in between (the session may have expired
/// meanwhile: then `Err(SessionExpired)`).
async fn retrying<T, F, Fut>(client: &Client, mut op: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    loop {
        match op().await {
            Err(Error::ConnectionLoss) | Err(Error::OperationTimeout) => {
                reconnected(client).await?
            }
            other => return other,
        }
    }
}

async fn reconnected(client: &Client) -> Result<(), Error> {
    let mut state = client.state_receiver();
    let session = client.session_id();
    let s = state
        .wait_for(|s| s.is_connected() || session_over(client, *s, session))
        .await
        .map_err(|_| Error::SessionExpired)?;
    if session_over(client, *s, session) {
        return Err(Error::SessionExpired);
    }
    Ok(())
}

/// The session `session` is over: the client ended, or (when it renews
/// expired sessions) it is on another session now.
fn session_over(client: &Client, state: SessionState, session: i64) -> bool {
    state.is_terminal() || (state.is_connected() && client.session_id() != session)
}

/// The client is (or is reconnecting) in `session`. Connecting means no
/// session yet, or a new one coming after an expiry.
fn in_session(client: &Client, session: i64) -> bool {
    let state = client.state();
    !state.is_terminal() && state != SessionState::Connecting && client.session_id() == session
}

/// Waits for a session to be connected, after an expiry when the client
/// renews sessions; `Err(SessionExpired)` when it does not.
async fn next_session(client: &Client) -> Result<(), Error> {
    if !client.renews_sessions() {
        return Err(Error::SessionExpired);
    }
    let mut state = client.state_receiver();
    let s = state
        .wait_for(|s| {
            s.is_connected() || matches!(s, SessionState::Closed | SessionState::AuthFailed)
        })
        .await
        .map_err(|_| Error::SessionExpired)?;
    if s.is_connected() {
        Ok(())
    } else {
        Err(Error::SessionExpired)
    }
}

/// A node a recipe holds (lock, lease, membership) and the session that
/// holds it: an ephemeral node is gone with its session, so once the
/// client is on another session (or ended) it is no longer held.
#[derive(Default)]
struct Held(Mutex<Option<(String, i64)>>);

impl Held {
    /// `ephemeral` false: the node outlives sessions and stays held.
    fn set(&self, client: &Client, node: String, ephemeral: bool) {
        let session = if ephemeral { client.session_id() } else { 0 };
        *self.0.lock().unwrap() = Some((node, session));
    }

    fn take(&self) -> Option<String> {
        self.0.lock().unwrap().take().map(|(node, _)| node)
    }

    fn node(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap()
            .as_ref()
            .map(|(node, _)| node.clone())
    }

    fn is_held(&self, client: &Client) -> bool {
        match *self.0.lock().unwrap() {
            Some((_, 0)) => true,
            Some((_, session)) => in_session(client, session),
            None => false,
        }
    }
}

/// kazoo's `cancel()` for a waiting acquire: wakes the wait, and remembers
/// it so a cancelled wait is told apart from a timeout.
#[derive(Default)]
struct Cancel {
    wake: Notify,
    cancelled: AtomicBool,
}

impl Cancel {
    /// A new wait begins: forget an earlier cancel.
    fn begin(&self) {
        self.cancelled.store(false, Ordering::SeqCst);
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    fn was_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Returns once `cancel` is called, or at once if it already was
    /// since `begin` (a cancel between the two is not lost).
    async fn requested(&self) {
        let notified = self.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.was_cancelled() {
            return;
        }
        notified.await
    }
}

/// The children of `parent`; none if it does not exist.
async fn children(c: &Client, parent: &str) -> Result<Vec<String>, Error> {
    match retrying(c, || c.get_children(parent, None)).await {
        Err(Error::NoNode) => Ok(Vec::new()),
        other => other,
    }
}

/// The data of each of `names` under `parent`, in order; a node deleted
/// meanwhile is left out.
async fn data_of(c: &Client, parent: &str, names: &[String]) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    for name in names {
        let node = join(parent, name);
        match retrying(c, || c.get_data(&node, None)).await {
            Ok((data, _)) => out.push(data),
            Err(Error::NoNode) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Deletes a node of ours; already gone (or gone with the session) is fine.
async fn remove(c: &Client, node: &str) -> Result<(), Error> {
    match retrying(c, || c.delete(node, -1)).await {
        Ok(()) | Err(Error::NoNode) | Err(Error::SessionExpired) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A name no other process picks: kazoo's uuid4 hex.
fn unique() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The sequence number ZooKeeper appended to a sequential node's name.
fn sequence(name: &str) -> Option<i64> {
    let tail = name.get(name.len().checked_sub(10)?..)?;
    tail.parse().ok()
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}
