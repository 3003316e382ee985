//! `LockingQueue` and the leases (`obtainLease`, `obtainOneOfLeases`) over
//! the core's recipes, in kazoo's layouts.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;
use zkrs::recipes;

use crate::client::Client;
use crate::error::ZkResult;
use crate::runtime::on_core;
use crate::types::data_bytes;

fn timeout(ms: Option<u32>) -> Option<Duration> {
    ms.map(|t| Duration::from_millis(t.into()))
}

/// kazoo's `LockingQueue`: `get` locks an item instead of taking it;
/// `consume()` removes it, `release()` gives it back; an item whose
/// worker's session ends is offered again.
#[napi]
pub struct LockingQueue {
    inner: Arc<recipes::LockingQueue>,
}

#[napi]
impl LockingQueue {
    #[napi(constructor)]
    pub fn new(client: &Client, path: String) -> napi::Result<Self> {
        let c = client.connected()?;
        Ok(LockingQueue {
            inner: Arc::new(recipes::LockingQueue::new(&c, &path)),
        })
    }

    /// Lower `priority` (0..=999, default 100) comes first.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn put(&self, data: Either<Buffer, String>, priority: Option<u16>) -> ZkResult<()> {
        self.put_all(vec![data], priority).await
    }

    /// All of `items` in one transaction.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn put_all(
        &self,
        items: Vec<Either<Buffer, String>>,
        priority: Option<u16>,
    ) -> ZkResult<()> {
        let q = self.inner.clone();
        let items: Vec<Vec<u8>> = items.into_iter().map(|d| data_bytes(Some(d))).collect();
        on_core(async move { q.put_all(&items, priority.unwrap_or(100)).await }).await
    }

    /// Locks and returns the first free item; null if none came within
    /// `timeoutMs` (no timeout: wait for one).
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub async fn get(&self, timeout_ms: Option<u32>) -> ZkResult<Option<Buffer>> {
        let q = self.inner.clone();
        let item = on_core(async move { q.get(timeout(timeout_ms)).await }).await;
        item.map(|i| i.map(Buffer::from))
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn holds_lock(&self) -> ZkResult<bool> {
        let q = self.inner.clone();
        on_core(async move { q.holds_lock().await }).await
    }

    /// Removes the item this queue holds; false if it holds none.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn consume(&self) -> ZkResult<bool> {
        let q = self.inner.clone();
        on_core(async move { q.consume().await }).await
    }

    /// Gives the held item back to the queue; false if it holds none.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn release(&self) -> ZkResult<bool> {
        let q = self.inner.clone();
        on_core(async move { q.release().await }).await
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub async fn size(&self) -> ZkResult<u32> {
        let q = self.inner.clone();
        on_core(async move { q.len().await })
            .await
            .map(|n| n as u32)
    }
}

/// kazoo's `NonBlockingLease`: tries once to take or renew the lease at
/// `path` for `durationMs` from now (UTC); resolves true if `identifier`
/// holds it.
#[napi(ts_return_type = "Promise<boolean>")]
pub async fn obtain_lease(
    client: &Client,
    path: String,
    duration_ms: u32,
    identifier: String,
) -> ZkResult<bool> {
    let c = match client.core() {
        Ok(c) => c,
        Err(e) => return ZkResult(Err(e)),
    };
    let (span, now) = (
        Duration::from_millis(duration_ms.into()),
        recipes::utc_now(),
    );
    on_core(async move { recipes::obtain_lease(&c, &path, span, &identifier, now).await }).await
}

/// kazoo's `MultiNonBlockingLease`: one of `count` leases under `path`.
#[napi(ts_return_type = "Promise<boolean>")]
pub async fn obtain_one_of_leases(
    client: &Client,
    count: u32,
    path: String,
    duration_ms: u32,
    identifier: String,
) -> ZkResult<bool> {
    let c = match client.core() {
        Ok(c) => c,
        Err(e) => return ZkResult(Err(e)),
    };
    let (span, now) = (
        Duration::from_millis(duration_ms.into()),
        recipes::utc_now(),
    );
    on_core(async move {
        recipes::obtain_one_of(&c, count as usize, &path, span, &identifier, now).await
    })
    .await
}
