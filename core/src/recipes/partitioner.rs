//! Set partitioning (kazoo `SetPartitioner`): the members of a party
//! divide a set of items so that each item has one owner, and divide it
//! again when members come or go. kazoo's layout, so kazoo and zkrs
//! processes share one partitioning: members are a [`ShallowParty`] at
//! `<path>/party`, and each item is owned through a [`Lock`] at
//! `<path>/locks/<item>`.
//!
//! A round: wait until the party has not changed for `time_boundary`,
//! split the items (by default member `i` of the sorted members takes
//! items `i`, `i + n`, ...), lock our items one by one, then `Acquired`.
//! A party change afterwards, a lost connection or a reconnect moves to
//! `Release`: the owner stops using its items and calls
//! [`SetPartitioner::release_set`] for the next round. A party change
//! while locking starts the round over; a lock that does not come within
//! `max_reaction_time` is tried again after checking for such a change,
//! so two members never wait on each other's locks. The end of the
//! session (or [`SetPartitioner::finish`]) is `Failure`, final.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::{join, retrying, Lock, ShallowParty, OPEN};
use crate::client::{watcher, Client};
use crate::Error;

/// Where a [`SetPartitioner`] is (kazoo's `PartitionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionState {
    /// Waiting for the party to settle, or taking our items' locks.
    Allocating,
    /// Our items are ours: [`SetPartitioner::partitions`].
    Acquired,
    /// The party or the connection changed: stop using the items and call
    /// [`SetPartitioner::release_set`].
    Release,
    /// Finished, or the session ended. Final.
    Failure,
}

/// Splits `items` for member `identifier` of `members`; `None` when it
/// cannot (we are not among the members): the partitioner fails.
pub type PartitionFn = Arc<dyn Fn(&str, &[String], &[String]) -> Option<Vec<String>> + Send + Sync>;

/// Called with each new state, in order.
pub type StateListener = Arc<dyn Fn(PartitionState) + Send + Sync>;

/// kazoo's keyword arguments, with kazoo's defaults.
#[derive(Clone)]
pub struct PartitionerOptions {
    /// Our member name (no '/'): kazoo's default is `<hostname>-<pid>`.
    pub identifier: String,
    /// How long the party must stay unchanged before a round splits it.
    pub time_boundary: Duration,
    /// How long one lock is waited for before checking the party again.
    pub max_reaction_time: Duration,
    /// The split; `None`: [`stride`].
    pub partition: Option<PartitionFn>,
    pub on_state: Option<StateListener>,
}

impl PartitionerOptions {
    /// kazoo's default member name, `<hostname>-<pid>`.
    pub fn default_identifier() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    }

    pub fn new(identifier: &str) -> PartitionerOptions {
        PartitionerOptions {
            identifier: identifier.to_string(),
            time_boundary: Duration::from_secs(30),
            max_reaction_time: Duration::from_secs(1),
            partition: None,
            on_state: None,
        }
    }
}

/// kazoo's split: member `i` of the sorted members takes every n-th item
/// from item `i`. Every member must pass the same items in the same order.
pub fn stride(identifier: &str, members: &[String], items: &[String]) -> Option<Vec<String>> {
    let mut workers = members.to_vec();
    workers.sort();
    let i = workers.iter().position(|m| m == identifier)?;
    Some(
        items
            .iter()
            .skip(i)
            .step_by(workers.len())
            .cloned()
            .collect(),
    )
}

pub struct SetPartitioner {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    locks_path: String,
    party_path: String,
    items: Vec<String>,
    opts: PartitionerOptions,
    party: ShallowParty,
    round: Mutex<Round>,
    /// Raised on `Acquired`, lowered when our locks go (kazoo's
    /// `_acquire_event`).
    acquired: watch::Sender<bool>,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// The state and how many times it was set: a round compares the count
/// to notice that the state moved on while it was locking.
struct Round {
    state: PartitionState,
    id: u64,
    partitions: Vec<String>,
    locks: Vec<Lock>,
}

/// What a round does after a party change or a state change.
enum Next {
    GoOn,
    Again,
    Stop,
}

impl SetPartitioner {
    /// Joins the party at `<path>/party` and starts the first round.
    pub async fn new(
        client: &Client,
        path: &str,
        items: Vec<String>,
        opts: PartitionerOptions,
    ) -> Result<SetPartitioner, Error> {
        let locks_path = join(path, "locks");
        let party_path = join(path, "party");
        for p in [path, &locks_path, &party_path] {
            retrying(client, || client.ensure_path(p, &OPEN)).await?;
        }
        let party = ShallowParty::new(client, &party_path, &opts.identifier);
        party.join().await?;
        let inner = Arc::new(Inner {
            client: client.clone(),
            locks_path,
            party_path,
            items,
            opts,
            party,
            round: Mutex::new(Round {
                state: PartitionState::Allocating,
                id: 0,
                partitions: Vec::new(),
                locks: Vec::new(),
            }),
            acquired: watch::Sender::new(false),
            tasks: Mutex::new(Vec::new()),
        });
        inner.spawn(inner.clone().watch_session());
        inner.spawn(inner.clone().allocate(0));
        Ok(SetPartitioner { inner })
    }

    pub fn state(&self) -> PartitionState {
        self.inner.round.lock().unwrap().state
    }

    /// The items of the last `Acquired` round.
    pub fn partitions(&self) -> Vec<String> {
        self.inner.round.lock().unwrap().partitions.clone()
    }

    /// Waits for `Acquired`; false if `timeout` passed first.
    pub async fn wait_for_acquire(&self, timeout: Option<Duration>) -> bool {
        let mut acquired = self.inner.acquired.subscribe();
        let wait = acquired.wait_for(|a| *a);
        match timeout {
            Some(t) => matches!(tokio::time::timeout(t, wait).await, Ok(Ok(_))),
            None => wait.await.is_ok(),
        }
    }

    /// Gives our items back and starts the next round (nothing after
    /// `Failure`).
    pub async fn release_set(&self) {
        let inner = &self.inner;
        if !inner.release_locks().await {
            return inner.fail_out().await;
        }
        let id = inner
            .change(|r| (r.state != PartitionState::Failure).then_some(PartitionState::Allocating));
        if let Some(id) = id {
            inner.spawn(inner.clone().allocate(id));
        }
    }

    /// Gives our items back and leaves the party: `Failure`, final.
    pub async fn finish(&self) {
        self.inner.finish().await;
    }
}

impl Drop for SetPartitioner {
    /// Stops its rounds; what it holds goes with `finish` or the session.
    fn drop(&mut self) {
        for t in self.inner.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

impl Inner {
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap();
        tasks.retain(|t| !t.is_finished());
        tasks.push(tokio::spawn(task).abort_handle());
    }

    /// Moves to the state `to` picks (under the round's lock; `None`
    /// stays), then tells the listener, outside the lock since it may call
    /// back in. Returns the new state id.
    fn change(&self, to: impl FnOnce(&mut Round) -> Option<PartitionState>) -> Option<u64> {
        let (state, id) = {
            let mut r = self.round.lock().unwrap();
            let state = to(&mut r)?;
            r.state = state;
            r.id += 1;
            (state, r.id)
        };
        if let Some(tell) = &self.opts.on_state {
            tell(state);
        }
        Some(id)
    }

    /// kazoo's session listener: the end of the session fails us; a lost
    /// connection or a reconnect means another member may have our items
    /// by now, so the owner must release.
    async fn watch_session(self: Arc<Self>) {
        let mut states = self.client.state_receiver();
        while states.changed().await.is_ok() {
            let session = *states.borrow_and_update();
            let state = self.round.lock().unwrap().state;
            if state == PartitionState::Failure {
                return;
            }
            if session.is_terminal() {
                return self.fail_out().await;
            }
            self.change(|r| {
                (!matches!(r.state, PartitionState::Release | PartitionState::Failure))
                    .then_some(PartitionState::Release)
            });
        }
    }

    /// One round, started with state id `id`.
    async fn allocate(self: Arc<Self>, id: u64) {
        loop {
            let Ok((members, changed)) = self.settle().await else {
                return self.fail_out().await;
            };
            let split = match &self.opts.partition {
                Some(f) => f(&self.opts.identifier, &members, &self.items),
                None => stride(&self.opts.identifier, &members, &self.items),
            };
            let Some(mine) = split else {
                return self.fail_out().await;
            };
            match self.lock_all(id, &mine, &changed).await {
                Some(Next::GoOn) => {}
                Some(Next::Again) => continue,
                Some(Next::Stop) => return,
                None => return self.finish().await,
            }
            let done = self.change(|r| {
                let current = r.id == id && !changed.load(Ordering::SeqCst);
                current.then(|| {
                    r.partitions = mine.clone();
                    PartitionState::Acquired
                })
            });
            if done.is_some() {
                self.acquired.send_replace(true);
                return;
            }
            match self.check(id, &changed).await {
                Next::Again => continue,
                Next::Stop => return,
                Next::GoOn => return self.fail_out().await, // cannot be
            }
        }
    }

    async fn finish(&self) {
        self.release_locks().await;
        self.fail_out().await;
    }

    /// Locks each of `mine`; `None` when a lock call failed.
    async fn lock_all(&self, id: u64, mine: &[String], changed: &AtomicBool) -> Option<Next> {
        let ident = self.opts.identifier.as_bytes();
        for item in mine {
            let lock = Lock::new(&self.client, &join(&self.locks_path, item), ident);
            loop {
                match lock.acquire(Some(self.opts.max_reaction_time)).await {
                    Ok(true) => break,
                    Ok(false) => match self.check(id, changed).await {
                        Next::GoOn => {}
                        stop => return Some(stop),
                    },
                    Err(_) => return None,
                }
            }
            self.round.lock().unwrap().locks.push(lock);
            match self.check(id, changed).await {
                Next::GoOn => {}
                stop => return Some(stop),
            }
        }
        Some(Next::GoOn)
    }

    /// kazoo's `abort_if_needed`: the party changed (start over, our
    /// locks given back) or the state moved on (stop; if a new round was
    /// begun meanwhile, it must be released too, since two rounds hold
    /// locks).
    async fn check(&self, id: u64, changed: &AtomicBool) -> Next {
        let moved_on = self.round.lock().unwrap().id != id;
        if moved_on {
            self.change(|r| {
                matches!(
                    r.state,
                    PartitionState::Allocating | PartitionState::Acquired
                )
                .then_some(PartitionState::Release)
            });
            return Next::Stop;
        }
        if !changed.load(Ordering::SeqCst) {
            return Next::GoOn;
        }
        if self.release_locks().await {
            Next::Again
        } else {
            self.fail_out().await;
            Next::Stop
        }
    }

    /// kazoo's `PatientChildrenWatch`: the members once they have not
    /// changed for `time_boundary`, and a flag raised when they change
    /// after that (moving `Acquired` to `Release`).
    async fn settle(self: &Arc<Self>) -> Result<(Vec<String>, Arc<AtomicBool>), Error> {
        loop {
            let changed = Arc::new(AtomicBool::new(false));
            let w = {
                let changed = changed.clone();
                let me = Arc::downgrade(self);
                watcher(move |_| {
                    changed.store(true, Ordering::SeqCst);
                    if let Some(me) = me.upgrade() {
                        me.party_changed();
                    }
                })
            };
            let c = &self.client;
            let names = retrying(c, || c.get_children(&self.party_path, Some(w.clone()))).await?;
            tokio::time::sleep(self.opts.time_boundary).await;
            if !changed.load(Ordering::SeqCst) {
                return Ok((super::party::member_ids(names), changed));
            }
        }
    }

    fn party_changed(&self) {
        self.change(|r| (r.state == PartitionState::Acquired).then_some(PartitionState::Release));
    }

    /// Releases every lock we hold; false if some would not go.
    async fn release_locks(&self) -> bool {
        self.acquired.send_replace(false);
        let locks = std::mem::take(&mut self.round.lock().unwrap().locks);
        let mut kept = Vec::new();
        for lock in locks {
            if lock.release().await.is_err() {
                kept.push(lock);
            }
        }
        let ok = kept.is_empty();
        self.round.lock().unwrap().locks.extend(kept);
        ok
    }

    /// `Failure`, and out of the party.
    async fn fail_out(&self) {
        self.change(|_| Some(PartitionState::Failure));
        if self.party.is_member() {
            let _ = self.party.leave().await;
        }
    }
}
