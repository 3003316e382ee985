//! The core recipes (`zkrs::recipes`) as classes with Promises: `Lock`,
//! `Semaphore`, `LeaderLatch`, `Counter`, `Barrier`, `DoubleBarrier`,
//! `Queue`, `Party`; and the standing watches `DataWatch` and
//! `ChildrenWatch`, which call back on the JS thread. Each takes a connected `Client`; times are in
//! milliseconds and an absent timeout waits as long as the session lives.
//! Only conversion here: the behaviour is the core's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use zkrs::recipes;

use crate::client::Client;
use crate::error::ZkResult;
use crate::runtime::{on_core, submit_promise};
use crate::types::{data_bytes, Stat, WatchedEvent};

fn ms(t: Option<u32>) -> Option<Duration> {
    t.map(|t| Duration::from_millis(t.into()))
}

fn texts(items: Vec<Vec<u8>>) -> Vec<String> {
    items
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

fn ident(identifier: Option<String>) -> Vec<u8> {
    identifier.unwrap_or_default().into_bytes()
}

/// `Lock` options.
#[napi(object)]
#[derive(Default)]
pub struct LockOptions {
    /// A read lock: shared with other readers, excludes writers.
    pub shared: Option<bool>,
}

/// A distributed lock in kazoo's layout (kazoo and Python zkrs processes
/// queue in the same line). Lost with the session: `isAcquired` is false
/// after expiry.
#[napi]
pub struct Lock {
    inner: Arc<recipes::Lock>,
}

#[napi]
impl Lock {
    #[napi(constructor)]
    pub fn new(
        client: &Client,
        path: String,
        identifier: Option<String>,
        options: Option<LockOptions>,
    ) -> napi::Result<Lock> {
        let c = client.connected()?;
        let id = ident(identifier);
        let inner = if options.and_then(|o| o.shared).unwrap_or(false) {
            recipes::Lock::read(&c, &path, &id)
        } else {
            recipes::Lock::new(&c, &path, &id)
        };
        Ok(Lock {
            inner: Arc::new(inner),
        })
    }

    /// Resolves true once held, false if `timeoutMs` passed first (0: try)
    /// or `cancel()` was called meanwhile. Joins the queue before it
    /// returns, so a `cancel()` right after it applies to it.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn acquire<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, ZkResult<bool>>> {
        let l = self.inner.clone();
        submit_promise(env, async move { l.acquire(ms(timeout_ms)).await })
    }

    /// Makes a waiting `acquire` leave the queue and resolve false.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel()
    }

    /// Resolves false if the lock was not held.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn release(&self) -> ZkResult<bool> {
        let l = self.inner.clone();
        on_core(async move { l.release().await }).await
    }

    #[napi(getter)]
    pub fn is_acquired(&self) -> bool {
        self.inner.is_acquired()
    }

    /// Identifiers of holder and waiters, holder first.
    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub async fn contenders(&self) -> ZkResult<Vec<String>> {
        let l = self.inner.clone();
        on_core(async move { l.contenders().await })
            .await
            .map(texts)
    }
}

/// At most `maxLeases` holders at once (kazoo's `Semaphore` layout).
#[napi]
pub struct Semaphore {
    inner: Arc<recipes::Semaphore>,
}

#[napi]
impl Semaphore {
    #[napi(constructor)]
    pub fn new(
        client: &Client,
        path: String,
        identifier: Option<String>,
        max_leases: Option<u32>,
    ) -> napi::Result<Semaphore> {
        let max = max_leases.unwrap_or(1) as usize;
        if max == 0 {
            return Err(napi::Error::from_reason(
                "BADARGUMENTS: maxLeases must be at least 1",
            ));
        }
        let c = client.connected()?;
        let inner = recipes::Semaphore::new(&c, &path, &ident(identifier), max);
        Ok(Semaphore {
            inner: Arc::new(inner),
        })
    }

    /// As `Lock.acquire`.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn acquire<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, ZkResult<bool>>> {
        let s = self.inner.clone();
        submit_promise(env, async move { s.acquire(ms(timeout_ms)).await })
    }

    /// Makes a waiting `acquire` give up and resolve false.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel()
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn release(&self) -> ZkResult<bool> {
        let s = self.inner.clone();
        on_core(async move { s.release().await }).await
    }

    #[napi(getter)]
    pub fn is_acquired(&self) -> bool {
        self.inner.is_acquired()
    }

    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub async fn lease_holders(&self) -> ZkResult<Vec<String>> {
        let s = self.inner.clone();
        on_core(async move { s.lease_holders().await })
            .await
            .map(texts)
    }
}

/// kazoo's `Election`: `run(fn)` (added in `zkrs.js`) waits to be elected,
/// runs `fn`, and steps down; these are its halves.
#[napi]
pub struct Election {
    inner: Arc<recipes::Election>,
}

#[napi]
impl Election {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String, identifier: Option<String>) -> napi::Result<Self> {
        let c = client.connected()?;
        let inner = recipes::Election::new(&c, &path, &ident(identifier));
        Ok(Election {
            inner: Arc::new(inner),
        })
    }

    /// Resolves true once elected, false if `cancel()` came first. Joins
    /// the line before it returns.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn lead<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ZkResult<bool>>> {
        let e = self.inner.clone();
        submit_promise(env, async move { e.lead().await })
    }

    /// Steps down after `lead`; false if not leading.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn step_down(&self) -> ZkResult<bool> {
        let e = self.inner.clone();
        on_core(async move { e.step_down().await }).await
    }

    /// Makes a waiting `lead` (or `run`) leave the line.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel()
    }

    /// Identifiers of the leader and the candidates, leader first.
    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub async fn contenders(&self) -> ZkResult<Vec<String>> {
        let e = self.inner.clone();
        on_core(async move { e.contenders().await })
            .await
            .map(texts)
    }
}

/// A candidate that stays in line until `close()`; `hasLeadership` is true
/// while it leads with a connected session.
#[napi]
pub struct LeaderLatch {
    inner: Arc<recipes::LeaderLatch>,
}

#[napi]
impl LeaderLatch {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String, identifier: Option<String>) -> napi::Result<Self> {
        let c = client.connected()?;
        let _rt = zkrs::runtime::get().enter();
        let latch = recipes::LeaderLatch::start(&c, &path, &ident(identifier));
        Ok(LeaderLatch {
            inner: Arc::new(latch),
        })
    }

    #[napi(getter)]
    pub fn has_leadership(&self) -> bool {
        self.inner.has_leadership()
    }

    /// Resolves true once leading, false if `timeoutMs` passed; rejects
    /// with SESSIONEXPIRED if the session ended.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn await_leadership(&self, timeout_ms: Option<u32>) -> ZkResult<bool> {
        let latch = self.inner.clone();
        on_core(async move { latch.await_leadership(ms(timeout_ms)).await }).await
    }

    /// Leaves the line; the next candidate takes over.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn close(&self) -> ZkResult<()> {
        let latch = self.inner.clone();
        on_core(async move { latch.close().await }).await
    }
}

/// An integer changed by compare-and-set (kazoo's `Counter` format).
#[napi]
pub struct Counter {
    inner: Arc<recipes::Counter>,
}

#[napi]
impl Counter {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String, default_value: Option<i64>) -> napi::Result<Self> {
        let c = client.connected()?;
        let inner = recipes::Counter::new(&c, &path, default_value.unwrap_or(0));
        Ok(Counter {
            inner: Arc::new(inner),
        })
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub async fn value(&self) -> ZkResult<i64> {
        let n = self.inner.clone();
        on_core(async move { n.value().await }).await
    }

    /// Adds `delta` atomically; resolves to the new value.
    #[napi(ts_return_type = "Promise<number>")]
    pub async fn add(&self, delta: i64) -> ZkResult<i64> {
        let n = self.inner.clone();
        on_core(async move { n.add(delta).await }).await
    }
}

/// Holds everyone in `wait()` until `remove()`.
#[napi]
pub struct Barrier {
    inner: Arc<recipes::Barrier>,
}

#[napi]
impl Barrier {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String) -> napi::Result<Self> {
        let c = client.connected()?;
        Ok(Barrier {
            inner: Arc::new(recipes::Barrier::new(&c, &path)),
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub async fn create(&self) -> ZkResult<()> {
        let b = self.inner.clone();
        on_core(async move { b.create().await }).await
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn remove(&self) -> ZkResult<bool> {
        let b = self.inner.clone();
        on_core(async move { b.remove().await }).await
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn wait(&self, timeout_ms: Option<u32>) -> ZkResult<bool> {
        let b = self.inner.clone();
        on_core(async move { b.wait(ms(timeout_ms)).await }).await
    }
}

/// `numClients` members enter together and leave together.
#[napi]
pub struct DoubleBarrier {
    inner: Arc<recipes::DoubleBarrier>,
}

#[napi]
impl DoubleBarrier {
    #[napi(constructor)]
    pub fn new(
        client: &Client,
        path: String,
        num_clients: u32,
        identifier: Option<String>,
    ) -> napi::Result<Self> {
        let c = client.connected()?;
        let b = recipes::DoubleBarrier::new(&c, &path, num_clients as usize, &ident(identifier));
        Ok(DoubleBarrier { inner: Arc::new(b) })
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn enter(&self, timeout_ms: Option<u32>) -> ZkResult<bool> {
        let b = self.inner.clone();
        on_core(async move { b.enter(ms(timeout_ms)).await }).await
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn leave(&self, timeout_ms: Option<u32>) -> ZkResult<bool> {
        let b = self.inner.clone();
        on_core(async move { b.leave(ms(timeout_ms)).await }).await
    }
}

/// Priority, then FIFO; each item is taken by exactly one `get`.
#[napi]
pub struct Queue {
    inner: Arc<recipes::Queue>,
}

#[napi]
impl Queue {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String) -> napi::Result<Self> {
        let c = client.connected()?;
        Ok(Queue {
            inner: Arc::new(recipes::Queue::new(&c, &path)),
        })
    }

    /// Lower `priority` (0..=999, default 100) is taken first.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn put(&self, data: Either<Buffer, String>, priority: Option<u16>) -> ZkResult<()> {
        let q = self.inner.clone();
        let bytes = data_bytes(Some(data));
        on_core(async move { q.put(&bytes, priority.unwrap_or(100)).await }).await
    }

    /// The first item, or null if the queue is empty (or stays empty for
    /// `timeoutMs`, when given).
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub async fn get(&self, timeout_ms: Option<u32>) -> ZkResult<Option<Buffer>> {
        let q = self.inner.clone();
        let item = on_core(async move {
            match timeout_ms {
                Some(t) => q.get_wait(ms(Some(t))).await,
                None => q.get().await,
            }
        })
        .await;
        item.map(|i| i.map(Buffer::from))
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub async fn size(&self) -> ZkResult<u32> {
        let q = self.inner.clone();
        on_core(async move { q.len().await })
            .await
            .map(|n| n as u32)
    }
}

/// Group membership by ephemeral nodes; members leave with their session.
#[napi]
pub struct Party {
    inner: Arc<recipes::Party>,
}

#[napi]
impl Party {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String, identifier: Option<String>) -> napi::Result<Self> {
        let c = client.connected()?;
        let inner = recipes::Party::new(&c, &path, &ident(identifier));
        Ok(Party {
            inner: Arc::new(inner),
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub async fn join(&self) -> ZkResult<()> {
        let p = self.inner.clone();
        on_core(async move { p.join().await }).await
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn leave(&self) -> ZkResult<bool> {
        let p = self.inner.clone();
        on_core(async move { p.leave().await }).await
    }

    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub async fn members(&self) -> ZkResult<Vec<String>> {
        let p = self.inner.clone();
        on_core(async move { p.members().await }).await.map(texts)
    }
}

/// kazoo's `ShallowParty`: each member one empty node named
/// `<uuid>-<identifier>` under the party's path, so `members()` is one
/// listing.
#[napi]
pub struct ShallowParty {
    inner: Arc<recipes::ShallowParty>,
}

#[napi]
impl ShallowParty {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String, identifier: Option<String>) -> napi::Result<Self> {
        let c = client.connected()?;
        let inner = recipes::ShallowParty::new(&c, &path, &identifier.unwrap_or_default());
        Ok(ShallowParty {
            inner: Arc::new(inner),
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub async fn join(&self) -> ZkResult<()> {
        let p = self.inner.clone();
        on_core(async move { p.join().await }).await
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn leave(&self) -> ZkResult<bool> {
        let p = self.inner.clone();
        on_core(async move { p.leave().await }).await
    }

    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub async fn members(&self) -> ZkResult<Vec<String>> {
        let p = self.inner.clone();
        on_core(async move { p.members().await }).await
    }
}

/// What a `DataWatch` callback gets: the node's data and stat (both
/// absent while it does not exist) and the event that led here (absent the
/// first time).
#[napi(object, object_from_js = false)]
pub struct DataWatchValue {
    pub data: Option<Buffer>,
    pub stat: Option<Stat>,
    pub event: Option<WatchedEvent>,
}

/// What a `ChildrenWatch` callback gets: the sorted child names and the
/// event that led here (absent the first time).
#[napi(object, object_from_js = false)]
pub struct ChildrenWatchValue {
    pub children: Vec<String>,
    pub event: Option<WatchedEvent>,
}

/// A standing-watch callback. It keeps Node's event loop alive until the
/// watch stops, as a pending watch does.
type DataCallback = ThreadsafeFunction<DataWatchValue, (), DataWatchValue, Status, false>;
type ChildrenCallback =
    ThreadsafeFunction<ChildrenWatchValue, (), ChildrenWatchValue, Status, false>;

/// The running core watch behind a JS object.
pub(crate) struct Running(pub(crate) Mutex<Option<recipes::WatchHandle>>);

impl Running {
    pub(crate) fn stop(&self) {
        if let Some(w) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            w.stop();
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        let w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.as_ref().is_some_and(|w| w.is_running())
    }
}

/// Calls back now and after every change of a node (kazoo's
/// `DataWatch`), in order, until `stop()` or the session ends (a lost
/// connection is waited out).
#[napi]
pub struct DataWatch {
    running: Running,
}

#[napi]
impl DataWatch {
    #[napi(
        constructor,
        ts_args_type = "client: Client, path: string, callback: (value: DataWatchValue) => void"
    )]
    pub fn new(client: &Client, path: String, callback: DataCallback) -> napi::Result<Self> {
        let c = client.connected()?;
        let _rt = zkrs::runtime::get().enter();
        let watch = recipes::DataWatch::new(&c, &path, move |now, event| {
            let (data, stat) = match now {
                Some((d, s)) => (Some(d.into()), Some(s.into())),
                None => (None, None),
            };
            let value = DataWatchValue {
                data,
                stat,
                event: event.map(Into::into),
            };
            callback.call(value, ThreadsafeFunctionCallMode::NonBlocking);
            true
        });
        Ok(DataWatch {
            running: Running(Mutex::new(watch.detach())),
        })
    }

    /// No more callbacks.
    #[napi]
    pub fn stop(&self) {
        self.running.stop();
    }

    /// False once stopped or the session ended.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.running.is_running()
    }
}

/// Calls back with a node's children now and after every change (kazoo's
/// `ChildrenWatch`), until `stop()`, the session's end, or the node's
/// absence: a missing or deleted node ends it.
#[napi]
pub struct ChildrenWatch {
    running: Running,
}

#[napi]
impl ChildrenWatch {
    #[napi(
        constructor,
        ts_args_type = "client: Client, path: string, callback: (value: ChildrenWatchValue) => void"
    )]
    pub fn new(client: &Client, path: String, callback: ChildrenCallback) -> napi::Result<Self> {
        let c = client.connected()?;
        let _rt = zkrs::runtime::get().enter();
        let watch = recipes::ChildrenWatch::new(&c, &path, move |children, event| {
            let value = ChildrenWatchValue {
                children,
                event: event.map(Into::into),
            };
            callback.call(value, ThreadsafeFunctionCallMode::NonBlocking);
            true
        });
        Ok(ChildrenWatch {
            running: Running(Mutex::new(watch.detach())),
        })
    }

    #[napi]
    pub fn stop(&self) {
        self.running.stop();
    }

    /// False once stopped, the node is gone or the session ended.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.running.is_running()
    }
}
